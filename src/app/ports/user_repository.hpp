#pragma once
#include <cstdint>
#include <string>

#include "common/error.hpp"
#include "domain/user.hpp"

namespace joopang {

/// Users and wallets in the system of record. Blocking; thread-safe.
class UserRepository {
  public:
    virtual ~UserRepository() = default;
    /// EMAIL_TAKEN if the email exists.
    virtual Result<User> Create(const User& user, const std::string& password_hash) = 0;
    /// USER_NOT_FOUND if absent.
    virtual Result<User> Find(std::int64_t id) = 0;
    /// Adds `amount` (> 0) to the wallet atomically; returns the new balance.
    virtual Result<Money> Charge(std::int64_t id, Money amount) = 0;
};

}  // namespace joopang
