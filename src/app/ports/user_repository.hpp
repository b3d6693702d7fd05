#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "domain/user.hpp"

namespace joopang {

/// What signing in checks.
struct UserCredentials {
    std::int64_t user_id = 0;
    std::string password_hash;
};

/// Users and wallets in the system of record. Blocking; thread-safe.
class UserRepository {
  public:
    virtual ~UserRepository() = default;
    /// EMAIL_TAKEN if the email exists.
    virtual Result<User> Create(const User& user, const std::string& password_hash) = 0;
    /// USER_NOT_FOUND if absent.
    virtual Result<User> Find(std::int64_t id) = 0;
    /// The credentials of the user with this (normalised) email, if any.
    virtual Result<std::optional<UserCredentials>> FindCredentials(const std::string& email) = 0;
    /// Adds `amount` (> 0) to the wallet atomically; returns the new balance.
    virtual Result<Money> Charge(std::int64_t id, Money amount) = 0;
};

}  // namespace joopang
