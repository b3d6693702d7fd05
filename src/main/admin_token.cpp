#include "main/admin_token.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace joopang {
namespace fs = std::filesystem;

std::string ResolveAdminToken(const std::string& configured, const std::string& data_dir) {
    if (!configured.empty()) return configured;
    fs::path file = fs::path(data_dir) / "admin-token";
    if (std::ifstream in(file); in) {
        std::string token;
        std::getline(in, token);
        if (!token.empty()) return token;
    }
    unsigned char raw[24];
    if (RAND_bytes(raw, sizeof raw) != 1)
        throw std::runtime_error("cannot draw random bytes for the admin token");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string token;
    for (unsigned char b : raw) {
        token += kHex[b >> 4];
        token += kHex[b & 15];
    }
    std::ofstream out(file);
    out << token << "\n";
    out.close();
    if (!out) throw std::runtime_error("cannot write " + file.string());
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    spdlog::info("created admin token in {}", file.string());
    return token;
}

}  // namespace joopang
