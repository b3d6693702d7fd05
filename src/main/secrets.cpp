#include "main/secrets.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace joopang {
namespace fs = std::filesystem;

namespace {

std::string ReadFirstLine(const fs::path& file) {
    std::string line;
    if (std::ifstream in(file); in) std::getline(in, line);
    return line;
}

}  // namespace

std::string ResolveSecret(const std::string& configured,
                          const std::string& data_dir,
                          const std::string& file_name,
                          std::size_t bytes,
                          const std::string& what) {
    if (!configured.empty()) return configured;
    fs::path file = fs::path(data_dir) / file_name;
    if (std::string existing = ReadFirstLine(file); !existing.empty()) return existing;

    std::vector<unsigned char> raw(bytes);
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
        throw std::runtime_error("cannot draw random bytes for the " + what);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string secret;
    for (unsigned char b : raw) {
        secret += kHex[b >> 4];
        secret += kHex[b & 15];
    }
    // Created owner-only from the start (no moment with wider permissions), and only if absent:
    // when two instances start on one data dir at once, the second reads the first's.
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            for (int i = 0; i < 50; ++i) {  // the other writer has not finished yet
                if (std::string existing = ReadFirstLine(file); !existing.empty()) return existing;
                ::usleep(20'000);
            }
            throw std::runtime_error(file.string() + " exists but holds no " + what);
        }
        throw std::runtime_error("cannot create " + file.string() + ": " + std::strerror(errno));
    }
    std::string line = secret + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + file.string());
    spdlog::info("created the {} in {}", what, file.string());
    return secret;
}

}  // namespace joopang
