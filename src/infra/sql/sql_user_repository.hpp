#pragma once
#include "app/ports/user_repository.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

class SqlUserRepository final : public UserRepository {
  public:
    explicit SqlUserRepository(Db& db) : db_(db) {}
    Result<User> Create(const User& user, const std::string& password_hash) override;
    Result<User> Find(std::int64_t id) override;
    Result<std::optional<UserCredentials>> FindCredentials(const std::string& email) override;
    Result<Money> Charge(std::int64_t id, Money amount) override;

  private:
    Db& db_;
};

}  // namespace joopang::sql
