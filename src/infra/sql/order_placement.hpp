#pragma once
/// Placing an order inside a transaction someone else opened: the order endpoint's own, or a cart
/// checkout's, which also takes the ordered lines out of the cart in the same transaction.

#include <vector>

#include "app/shop_types.hpp"
#include "common/clock.hpp"
#include "domain/order.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

/// Reserves stock for every line (all or nothing: OUT_OF_STOCK / ITEM_NOT_FOUND naming the line),
/// validates and holds the coupon, prices the order and stores it PENDING, expiring at
/// `expires_at`. On an error the caller must roll the transaction back.
Result<Order> PlaceOrderIn(Connection& c,
                           const PlaceOrderRequest& req,
                           EpochMs now,
                           EpochMs expires_at);

/// Lines sorted by item id: the one lock order for stock rows.
std::vector<OrderLine> ByItemId(std::vector<OrderLine> lines);

}  // namespace joopang::sql
