#pragma once
#include "app/ports/outbox.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

class SqlOutboxRepository final : public OutboxRepository {
  public:
    explicit SqlOutboxRepository(Db& db) : db_(db) {}
    Result<std::vector<OutboxEvent>> FetchUnsent(int limit) override;
    Status MarkSent(const std::vector<std::int64_t>& ids, EpochMs now) override;

  private:
    Db& db_;
};

}  // namespace joopang::sql
