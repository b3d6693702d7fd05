#include "infra/sql/sql_user_repository.hpp"

namespace joopang::sql {
namespace {

constexpr const char* kSelectUser =
    "SELECT id, email, first_name, last_name, balance, created_at FROM users WHERE id = ?";

User ToUser(const Row& r) {
    User u;
    u.id = r.Int(0);
    u.email = r.Text(1);
    u.first_name = r.Text(2);
    u.last_name = r.Text(3);
    u.balance = Money::FromCents(r.Int(4));
    u.created_at = r.Int(5);
    return u;
}

}  // namespace

Result<User> SqlUserRepository::Create(const User& user, const std::string& password_hash) {
    return db_.Transact<User>(TxMode::kWrite, [&](Connection& c) -> Result<User> {
        auto r = c.Exec(
            "INSERT INTO users(email, password_hash, first_name, last_name, balance, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            {user.email, password_hash, user.first_name, user.last_name, user.balance.cents(),
             user.created_at});
        if (!r) return r.error();
        if (r->rows.empty())
            return Error{ErrorCode::kEmailTaken, "a user with this email exists", "email"};
        User out = user;
        out.id = r->rows[0].Int(0);
        return out;
    });
}

Result<User> SqlUserRepository::Find(std::int64_t id) {
    return db_.Transact<User>(TxMode::kNone, [&](Connection& c) -> Result<User> {
        auto r = c.Exec(kSelectUser, {id});
        if (!r) return r.error();
        if (r->rows.empty())
            return Error{ErrorCode::kUserNotFound, "user " + std::to_string(id) + " not found"};
        return ToUser(r->rows[0]);
    });
}

Result<std::optional<UserCredentials>> SqlUserRepository::FindCredentials(
    const std::string& email) {
    using Out = std::optional<UserCredentials>;
    return db_.Transact<Out>(TxMode::kNone, [&](Connection& c) -> Result<Out> {
        auto r = c.Exec("SELECT id, password_hash FROM users WHERE email = ?", {email});
        if (!r) return r.error();
        if (r->rows.empty()) return Out{};
        return Out{UserCredentials{r->rows[0].Int(0), r->rows[0].Text(1)}};
    });
}

Result<Money> SqlUserRepository::Charge(std::int64_t id, Money amount) {
    return db_.Transact<Money>(TxMode::kWrite, [&](Connection& c) -> Result<Money> {
        auto r = c.Exec(
            "UPDATE users SET balance = balance + ? WHERE id = ? AND balance + ? <= ? "
            "RETURNING balance",
            {amount.cents(), id, amount.cents(), Money::kMaxCents});
        if (!r) return r.error();
        if (r->rows.empty()) {
            auto exists = c.Exec("SELECT 1 FROM users WHERE id = ?", {id});
            if (!exists) return exists.error();
            if (exists->rows.empty())
                return Error{ErrorCode::kUserNotFound, "user " + std::to_string(id) + " not found"};
            return Error::Validation("amount", "the balance would exceed the maximum");
        }
        return Money::FromCents(r->rows[0].Int(0));
    });
}

}  // namespace joopang::sql
