#pragma once
#include <cstdint>
#include <string>

#include "common/clock.hpp"
#include "common/money.hpp"

namespace joopang {

/// A shopper with a wallet. The password is kept only as a salted hash.
struct User {
    std::int64_t id = 0;
    std::string email;
    std::string first_name;
    std::string last_name;
    Money balance;
    EpochMs created_at = 0;

    std::string FullName() const;
};

/// True when `email` has the shape local@domain.tld with no spaces; not a deliverability check.
bool IsValidEmail(const std::string& email);

/// The form emails are stored and looked up in: ASCII letters lower-cased, so that "Alice@X.com"
/// and "alice@x.com" are one account (the migration that introduced it folded existing rows).
std::string NormalizeEmail(std::string email);

}  // namespace joopang
