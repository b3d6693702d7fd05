#pragma once
/// Who sent a request, as the API established it before the handler runs: nobody (a public
/// route), a signed-in user (an access token, or the gateway's X-User-Id), or the operator (the
/// admin token), who may act for any user.

#include <cstdint>
#include <string>

#include "common/clock.hpp"

namespace joopang::http {

struct Caller {
    enum class Kind { kAnonymous, kUser, kAdmin };
    Kind kind = Kind::kAnonymous;
    /// For kUser.
    std::int64_t user_id = 0;
    /// For a user signed in with an access token: the token's id and expiry (what logout revokes).
    std::string token_id;
    EpochMs token_expires_at = 0;

    bool is_admin() const { return kind == Kind::kAdmin; }
    bool is_user() const { return kind == Kind::kUser; }
    /// Idempotency keys are kept per caller: "u42", "admin" or "-".
    std::string Scope() const {
        if (kind == Kind::kUser) return std::string("u").append(std::to_string(user_id));
        return kind == Kind::kAdmin ? "admin" : "-";
    }
};

}  // namespace joopang::http
