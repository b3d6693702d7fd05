#include "app/random_bytes.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <stdexcept>

namespace joopang {
namespace {

constexpr std::size_t kBlock = 4096;

struct Block {
    std::array<unsigned char, kBlock> bytes{};
    std::size_t used = kBlock;  // empty: the first draw fills it
    ~Block() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

}  // namespace

void RandomBytes(unsigned char* out, std::size_t n) {
    if (n > kBlock) {  // not a token: straight from OpenSSL
        if (RAND_bytes(out, static_cast<int>(n)) != 1)
            throw std::runtime_error("RAND_bytes failed");
        return;
    }
    thread_local Block block;
    if (kBlock - block.used < n) {
        if (RAND_bytes(block.bytes.data(), static_cast<int>(kBlock)) != 1)
            throw std::runtime_error("RAND_bytes failed");
        block.used = 0;
    }
    unsigned char* from = block.bytes.data() + block.used;
    std::memcpy(out, from, n);
    OPENSSL_cleanse(from, n);
    block.used += n;
}

}  // namespace joopang
