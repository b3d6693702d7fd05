#pragma once
/// Signing in and out. Login checks an email and password (a slow salted hash, compared in
/// constant time, and the same work for an unknown email) and signs an access token; too many
/// attempts for one email in a window are refused across instances (LoginThrottle). Logout adds
/// the token to this instance's deny-list at once and to the shared revocation log, which every
/// instance follows (SyncRevocations, run as a job). Authenticate is the request path's check:
/// signature, expiry and deny-list, all in-process.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "app/access_token.hpp"
#include "app/ports/login_throttle.hpp"
#include "app/ports/revocation_log.hpp"
#include "app/ports/user_repository.hpp"
#include "app/revoked_tokens.hpp"
#include "common/blocking_pool.hpp"

namespace joopang {

struct AuthSettings {
    EpochMs token_ttl_ms = 3600 * 1000;
    /// Sign-in attempts per email without a success before 429, and the window they count in.
    int login_max_attempts = 5;
    EpochMs login_window_ms = 15 * 60 * 1000;
};

struct SignedToken {
    std::string token;
    AccessClaims claims;
};

class AuthService {
  public:
    AuthService(UserRepository& users,
                LoginThrottle& throttle,
                RevocationLog& revocations,
                const AccessTokenCodec& codec,
                BlockingPool& pool,
                AuthSettings settings,
                std::function<EpochMs()> now = NowMs);

    /// INVALID_CREDENTIALS for an unknown email or a wrong password alike; RATE_LIMITED once the
    /// email had too many attempts.
    boost::asio::awaitable<Result<SignedToken>> Login(std::string email, std::string password);
    /// A token for `user_id` (admin: support, load tests); USER_NOT_FOUND if there is none.
    boost::asio::awaitable<Result<SignedToken>> Mint(std::int64_t user_id);
    /// Revokes the token: refused here at once, everywhere within a sync period. When the shared
    /// log cannot be reached the revocation is kept and published by the next sync that can (the
    /// token is refused here meanwhile), so a logout is never lost.
    boost::asio::awaitable<Status> Logout(const AccessClaims& claims);
    /// The claims of a valid, unexpired, unrevoked token; UNAUTHORIZED otherwise. Thread-safe.
    Result<AccessClaims> Authenticate(std::string_view token) const;

    /// Publishes the revocations a logout could not, applies the revocations logged since the
    /// last call (all kept ones on the first) and drops expired ones. Call from one executor at
    /// a time (a job).
    boost::asio::awaitable<Status> SyncRevocations();
    std::size_t revoked_count() const { return revoked_.size(); }

  private:
    SignedToken Sign(std::int64_t user_id);

    UserRepository& users_;
    LoginThrottle& throttle_;
    RevocationLog& revocations_;
    const AccessTokenCodec& codec_;
    BlockingPool& pool_;
    AuthSettings settings_;
    std::function<EpochMs()> now_;
    RevokedTokens revoked_;
    std::string revocation_cursor_;
    std::mutex unpublished_mu_;
    std::vector<Revocation> unpublished_;  // logouts not yet in the shared log
    /// Checked against for unknown emails, so that they take as long as a wrong password.
    std::string decoy_hash_;
};

}  // namespace joopang
