#pragma once
#include "app/ports/order_repository.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

/// Orders on the relational database. Atomicity comes from conditional updates
/// (`… WHERE stock >= ?`, `… WHERE status = 'PENDING'`) inside one transaction, which is exact on
/// SQLite (one writer) and on PostgreSQL under READ COMMITTED (a blocked UPDATE re-checks its WHERE
/// against the committed row) alike, with any number of service processes.
/// Rows are locked in one order everywhere — order, items by id, user, coupon, products by id —
/// so PostgreSQL deadlocks are rare, and the ones that happen are retried by Db::Run.
class SqlOrderRepository final : public OrderRepository {
  public:
    explicit SqlOrderRepository(Db& db) : db_(db) {}
    Result<Order> Place(const PlaceOrderRequest& request, EpochMs now, EpochMs expires_at) override;
    Result<Order> Find(std::int64_t order_id) override;
    Result<Page<Order>> ListByUser(std::int64_t user_id,
                                   std::int64_t page,
                                   std::int64_t size) override;
    Result<Payment> Pay(std::int64_t order_id, std::int64_t user_id, EpochMs now) override;
    Result<Order> Cancel(std::int64_t order_id, std::int64_t user_id, EpochMs now) override;
    Result<std::vector<Order>> ExpireDue(EpochMs now, int limit) override;

  private:
    Db& db_;
};

}  // namespace joopang::sql
