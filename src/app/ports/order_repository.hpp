#pragma once
#include <cstdint>

#include "app/shop_types.hpp"
#include "common/error.hpp"
#include "domain/order.hpp"

namespace joopang {

/// Orders, stock reservation, payment and the outbox, each operation one transaction.
/// Blocking; thread-safe; correct with many service processes sharing the database.
class OrderRepository {
  public:
    virtual ~OrderRepository() = default;
    /// Reserves stock for every line (all or nothing: OUT_OF_STOCK / ITEM_NOT_FOUND), validates
    /// and holds the coupon, prices the order and stores it PENDING, expiring at `expires_at`.
    virtual Result<Order> Place(const PlaceOrderRequest& request,
                                EpochMs now,
                                EpochMs expires_at) = 0;
    virtual Result<Order> Find(std::int64_t order_id) = 0;
    virtual Result<Page<Order>> ListByUser(std::int64_t user_id,
                                           std::int64_t page,
                                           std::int64_t size) = 0;
    /// PENDING → PAID by the owner: debits the wallet, marks the coupon USED, adds sales counts,
    /// and writes an `order-paid` outbox row, all in one transaction.
    virtual Result<Payment> Pay(std::int64_t order_id, std::int64_t user_id, EpochMs now) = 0;
    /// PENDING|PAID → CANCELED by the owner: releases stock and coupon, refunds a paid order.
    virtual Result<Order> Cancel(std::int64_t order_id, std::int64_t user_id, EpochMs now) = 0;
    /// Expires up to `limit` PENDING orders whose expiry passed (releasing their stock and
    /// coupon); returns the orders it expired, as they were.
    virtual Result<std::vector<Order>> ExpireDue(EpochMs now, int limit) = 0;
};

}  // namespace joopang
