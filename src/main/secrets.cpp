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
    // Written whole to a private temporary file (owner-only from the start), then linked into
    // place: the file either does not exist or holds the whole secret, even after a crash, and
    // when two instances start on one data dir at once the second link fails and it reads the
    // first's.
    if (fs::exists(file) && fs::file_size(file) == 0) fs::remove(file);  // a crashed older write
    const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error("cannot create " + tmp.string() + ": " + std::strerror(errno));
    std::string line = secret + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + tmp.string());
    }
    const bool linked = ::link(tmp.c_str(), file.c_str()) == 0;
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (!linked) {
        if (link_errno == EEXIST) {
            if (std::string existing = ReadFirstLine(file); !existing.empty()) return existing;
        }
        throw std::runtime_error("cannot create " + file.string() + ": " +
                                 std::strerror(link_errno));
    }
    spdlog::info("created the {} in {}", what, file.string());
    return secret;
}

}  // namespace joopang
