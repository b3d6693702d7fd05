#pragma once
#include "app/ports/idempotency_store.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

/// Idempotency keys in the `idempotency_keys` table: a claim is a row with status 0; a completed
/// key holds the HTTP status and body of the first answer.
class SqlIdempotencyStore final : public IdempotencyStore {
  public:
    explicit SqlIdempotencyStore(Db& db) : db_(db) {}
    Result<Claim> Begin(const std::string& scope,
                        const std::string& key,
                        const std::string& fingerprint,
                        EpochMs now,
                        EpochMs ttl_ms) override;
    Status Complete(const std::string& scope,
                    const std::string& key,
                    const StoredResponse& response) override;
    Status Abandon(const std::string& scope, const std::string& key) override;

  private:
    Db& db_;
};

}  // namespace joopang::sql
