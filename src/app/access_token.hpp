#pragma once
/// Access tokens: JSON Web Tokens signed with HMAC-SHA256 (RFC 7519, "HS256") by a secret all
/// instances share. A token names its user (`sub`), carries a random id (`jti`, the handle a
/// logout revokes), and its issue and expiry times (`iat`, `exp`, seconds). Verification is
/// in-process and costs about a microsecond: one HMAC over the first two segments, a
/// constant-time compare, and a read of our own payload layout. Only tokens this codec signed
/// verify: the header must be exactly ours (no `alg` choice is taken from the token).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/error.hpp"

namespace joopang {

struct AccessClaims {
    std::int64_t user_id = 0;
    /// Random, URL-safe; unique per token.
    std::string token_id;
    EpochMs issued_at = 0;
    EpochMs expires_at = 0;
};

class AccessTokenCodec {
  public:
    /// Throws std::invalid_argument when the secret is shorter than kMinSecretBytes.
    explicit AccessTokenCodec(std::string secret);
    ~AccessTokenCodec();
    AccessTokenCodec(const AccessTokenCodec&) = delete;
    AccessTokenCodec& operator=(const AccessTokenCodec&) = delete;

    static constexpr std::size_t kMinSecretBytes = 16;

    /// The compact JWT for `claims` (times are kept to the second, as JWT has them).
    std::string Sign(const AccessClaims& claims) const;
    /// The claims of a token this codec signed that has not expired at `now`; otherwise
    /// UNAUTHORIZED saying why (malformed, bad signature, expired). Thread-safe.
    Result<AccessClaims> Verify(std::string_view token, EpochMs now) const;

    /// A fresh random token id (128 bits, base64url).
    static std::string NewTokenId();

  private:
    /// HMAC-SHA256 of `data` into `out` (32 bytes).
    void Mac(std::string_view data, unsigned char* out) const;

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace joopang
