#include "app/auth_service.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "app/password_hasher.hpp"
#include "domain/user.hpp"

namespace joopang {
using boost::asio::awaitable;

namespace {

Error InvalidCredentials() {
    return Error{ErrorCode::kInvalidCredentials, "the email or the password is wrong"};
}

}  // namespace

AuthService::AuthService(UserRepository& users,
                         LoginThrottle& throttle,
                         RevocationLog& revocations,
                         const AccessTokenCodec& codec,
                         BlockingPool& pool,
                         AuthSettings settings,
                         std::function<EpochMs()> now)
    : users_(users),
      throttle_(throttle),
      revocations_(revocations),
      codec_(codec),
      pool_(pool),
      settings_(settings),
      now_(std::move(now)),
      decoy_hash_(HashPassword(AccessTokenCodec::NewTokenId())) {}

SignedToken AuthService::Sign(std::int64_t user_id) {
    SignedToken out;
    EpochMs now = now_();
    out.claims.user_id = user_id;
    out.claims.token_id = AccessTokenCodec::NewTokenId();
    // JWT times are whole seconds: the expiry is rounded down so that a token never outlives
    // its TTL.
    out.claims.issued_at = now / 1000 * 1000;
    out.claims.expires_at = (now + settings_.token_ttl_ms) / 1000 * 1000;
    out.token = codec_.Sign(out.claims);
    return out;
}

awaitable<Result<SignedToken>> AuthService::Login(std::string email, std::string password) {
    email = NormalizeEmail(std::move(email));
    auto verdict =
        co_await throttle_.Attempt(email, settings_.login_max_attempts, settings_.login_window_ms);
    if (!verdict) {
        // Fail open: sign-in keeps working while Redis is away; guessing is slowed by the hash.
        spdlog::warn("login throttle unavailable, attempt not counted: {}",
                     verdict.error().message);
    } else if (!verdict->allowed) {
        Error e{ErrorCode::kRateLimited, "too many sign-in attempts for this email; try later"};
        e.retry_after_s =
            static_cast<int>(std::max<std::int64_t>(1, (verdict->retry_after_ms + 999) / 1000));
        co_return e;
    }
    auto user = co_await pool_.Run([&]() -> Result<std::int64_t> {
        auto creds = users_.FindCredentials(email);
        if (!creds) return creds.error();
        // An unknown email costs the same hash as a wrong password.
        const std::string& hash = *creds ? (*creds)->password_hash : decoy_hash_;
        bool ok = VerifyPassword(password, hash);
        if (!ok || !*creds) return InvalidCredentials();
        return (*creds)->user_id;
    });
    if (!user) co_return user.error();
    auto cleared = co_await throttle_.Succeeded(email);
    if (!cleared) spdlog::warn("could not reset the login throttle: {}", cleared.error().message);
    co_return Sign(*user);
}

awaitable<Result<SignedToken>> AuthService::Mint(std::int64_t user_id) {
    auto user = co_await pool_.Run([&] { return users_.Find(user_id); });
    if (!user) co_return user.error();
    co_return Sign(user_id);
}

awaitable<Status> AuthService::Logout(const AccessClaims& claims) {
    revoked_.Add(claims.token_id, claims.expires_at);
    // A named value: GCC 12 destroys a temporary inside a co_await expression twice.
    const Revocation revocation{claims.token_id, claims.expires_at};
    auto st = co_await revocations_.Publish(revocation);
    if (!st) {
        spdlog::warn("logout not yet shared with other instances ({}); retrying",
                     st.error().message);
        std::lock_guard lock(unpublished_mu_);
        unpublished_.push_back(revocation);
    }
    co_return Status{};
}

Result<AccessClaims> AuthService::Authenticate(std::string_view token) const {
    auto claims = codec_.Verify(token, now_());
    if (!claims) return claims;
    if (revoked_.Contains(claims->token_id))
        return Error{ErrorCode::kUnauthorized, "access token has been revoked"};
    return claims;
}

awaitable<Status> AuthService::SyncRevocations() {
    std::vector<Revocation> pending;
    {
        std::lock_guard lock(unpublished_mu_);
        pending.swap(unpublished_);
    }
    for (std::size_t i = 0; i < pending.size(); ++i) {
        auto st = co_await revocations_.Publish(pending[i]);
        if (!st) {
            std::lock_guard lock(unpublished_mu_);
            unpublished_.insert(unpublished_.end(), pending.begin() + static_cast<long>(i),
                                pending.end());
            co_return st.error();
        }
    }
    constexpr int kBatch = 1000;
    for (;;) {
        auto batch = co_await revocations_.ReadAfter(revocation_cursor_, kBatch);
        if (!batch) co_return batch.error();
        for (const auto& r : *batch) revoked_.Add(r.token_id, r.expires_at);
        if (static_cast<int>(batch->size()) < kBatch) break;
    }
    revoked_.Prune(now_());
    co_return Status{};
}

}  // namespace joopang
