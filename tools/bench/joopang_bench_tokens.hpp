// Access tokens for users who never signed in: a load test of users 1..U signs them with the
// service's own secret (--auth-secret), exactly as the service would, instead of U logins.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace joopang {
class AccessTokenCodec;
}

namespace joopang::bench {

class BenchTokens {
  public:
    /// Throws std::invalid_argument for a secret the service would refuse (too short).
    explicit BenchTokens(std::string secret, std::int64_t ttl_s = 3 * 3600);
    ~BenchTokens();
    /// A valid token for `user` (signed now; costs about a microsecond). Thread-safe.
    std::string For(std::uint64_t user) const;

  private:
    std::unique_ptr<AccessTokenCodec> codec_;
    std::int64_t ttl_s_;
};

}  // namespace joopang::bench
