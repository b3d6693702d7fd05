#include "app/access_token.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <atomic>
#include <charconv>
#include <optional>
#include <stdexcept>

#include "app/random_bytes.hpp"

namespace joopang {
namespace {

constexpr std::size_t kMacBytes = 32;

/// base64url without padding (RFC 7515 §2), through OpenSSL's base64.
std::string Base64Url(const unsigned char* data, std::size_t n) {
    std::string out(4 * ((n + 2) / 3), '\0');
    int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    out.resize(static_cast<std::size_t>(len));
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return out;
}

std::optional<std::string> FromBase64Url(std::string_view text) {
    if (text.size() % 4 == 1 || text.size() > 4096) return std::nullopt;
    std::string padded(text);
    for (char& c : padded) {
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/' || c == '=')
            return std::nullopt;  // standard base64 is not base64url
    }
    std::size_t pad = (4 - padded.size() % 4) % 4;
    padded.append(pad, '=');
    std::string out(padded.size() / 4 * 3, '\0');
    int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                              reinterpret_cast<const unsigned char*>(padded.data()),
                              static_cast<int>(padded.size()));
    if (len < 0) return std::nullopt;
    out.resize(static_cast<std::size_t>(len) - pad);
    return out;
}

/// The one header this codec writes and accepts.
const std::string& Header() {
    static const std::string kHeader = [] {
        std::string json = R"({"alg":"HS256","typ":"JWT"})";
        return Base64Url(reinterpret_cast<const unsigned char*>(json.data()), json.size());
    }();
    return kHeader;
}

/// Reads `"<key>":` at `pos` and moves past it.
bool Expect(std::string_view s, std::size_t& pos, std::string_view literal) {
    if (s.compare(pos, literal.size(), literal) != 0) return false;
    pos += literal.size();
    return true;
}

bool ReadInt(std::string_view s, std::size_t& pos, std::int64_t& out) {
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), out);
    if (ec != std::errc() || p == s.data() + pos) return false;
    pos = static_cast<std::size_t>(p - s.data());
    return true;
}

Error Unauthorized(std::string why) {
    return Error{ErrorCode::kUnauthorized, "access token " + std::move(why)};
}

/// Each codec gets a number, so that a thread's cached MAC context is never used for another
/// codec's key (tests build several).
std::atomic<std::uint64_t> next_codec_id{1};

struct ThreadMac {
    std::uint64_t codec_id = 0;
    EVP_MAC_CTX* ctx = nullptr;
    ~ThreadMac() { EVP_MAC_CTX_free(ctx); }
};

}  // namespace

struct AccessTokenCodec::Impl {
    std::uint64_t id = next_codec_id++;
    EVP_MAC* mac = nullptr;
    EVP_MAC_CTX* keyed = nullptr;  // initialised with the secret; copied per thread
    ~Impl() {
        EVP_MAC_CTX_free(keyed);
        EVP_MAC_free(mac);
    }
};

AccessTokenCodec::AccessTokenCodec(std::string secret) : impl_(std::make_unique<Impl>()) {
    if (secret.size() < kMinSecretBytes)
        throw std::invalid_argument("the auth secret must be at least " +
                                    std::to_string(kMinSecretBytes) + " bytes");
    impl_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!impl_->mac) throw std::runtime_error("OpenSSL has no HMAC");
    impl_->keyed = EVP_MAC_CTX_new(impl_->mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (!impl_->keyed ||
        EVP_MAC_init(impl_->keyed, reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), params) != 1)
        throw std::runtime_error("cannot initialise HMAC-SHA256");
    OPENSSL_cleanse(secret.data(), secret.size());
}

AccessTokenCodec::~AccessTokenCodec() = default;

void AccessTokenCodec::Mac(std::string_view data, unsigned char* out) const {
    // A keyed context per thread: re-initialised without a key it reuses its own, so a MAC costs
    // no allocation and no algorithm lookup.
    thread_local ThreadMac cached;
    if (cached.codec_id != impl_->id) {
        EVP_MAC_CTX_free(cached.ctx);
        cached.ctx = EVP_MAC_CTX_dup(impl_->keyed);
        cached.codec_id = cached.ctx ? impl_->id : 0;
        if (!cached.ctx) throw std::runtime_error("cannot copy the HMAC context");
    }
    std::size_t len = 0;
    if (EVP_MAC_init(cached.ctx, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(cached.ctx, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1 ||
        EVP_MAC_final(cached.ctx, out, &len, kMacBytes) != 1 || len != kMacBytes)
        throw std::runtime_error("HMAC-SHA256 failed");
}

std::string AccessTokenCodec::Sign(const AccessClaims& c) const {
    std::string payload = "{\"sub\":\"" + std::to_string(c.user_id) + "\",\"jti\":\"" + c.token_id +
                          "\",\"iat\":" + std::to_string(c.issued_at / 1000) +
                          ",\"exp\":" + std::to_string(c.expires_at / 1000) + "}";
    std::string token =
        Header() + "." +
        Base64Url(reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
    unsigned char mac[kMacBytes];
    Mac(token, mac);
    token += '.';
    token += Base64Url(mac, kMacBytes);
    return token;
}

Result<AccessClaims> AccessTokenCodec::Verify(std::string_view token, EpochMs now) const {
    auto dot1 = token.find('.');
    auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
        return Unauthorized("is malformed");
    if (token.substr(0, dot1) != Header()) return Unauthorized("is malformed");
    unsigned char mac[kMacBytes];
    Mac(token.substr(0, dot2), mac);
    std::string expected = Base64Url(mac, kMacBytes);
    std::string_view signature = token.substr(dot2 + 1);
    if (signature.size() != expected.size() ||
        CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
        return Unauthorized("has a bad signature");
    // Signed by us, so the payload has our layout exactly; anything else is refused.
    auto payload = FromBase64Url(token.substr(dot1 + 1, dot2 - dot1 - 1));
    if (!payload) return Unauthorized("is malformed");
    std::string_view p = *payload;
    AccessClaims c;
    std::int64_t iat = 0, exp = 0;
    std::size_t pos = 0;
    if (!Expect(p, pos, "{\"sub\":\"") || !ReadInt(p, pos, c.user_id) ||
        !Expect(p, pos, "\",\"jti\":\""))
        return Unauthorized("is malformed");
    auto quote = p.find('"', pos);
    if (quote == std::string_view::npos) return Unauthorized("is malformed");
    c.token_id = std::string(p.substr(pos, quote - pos));
    pos = quote;
    if (!Expect(p, pos, "\",\"iat\":") || !ReadInt(p, pos, iat) || !Expect(p, pos, ",\"exp\":") ||
        !ReadInt(p, pos, exp) || !Expect(p, pos, "}") || pos != p.size() || c.user_id <= 0 ||
        c.token_id.empty())
        return Unauthorized("is malformed");
    if (exp > INT64_MAX / 1000 || iat > INT64_MAX / 1000) return Unauthorized("is malformed");
    c.issued_at = iat * 1000;
    c.expires_at = exp * 1000;
    if (now >= c.expires_at) return Unauthorized("has expired");
    return c;
}

std::string AccessTokenCodec::NewTokenId() {
    unsigned char raw[16];
    RandomBytes(raw, sizeof raw);
    return Base64Url(raw, sizeof raw);
}

}  // namespace joopang
