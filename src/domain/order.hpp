#pragma once
/// Orders and their state machine:
///
///   PENDING --pay--> PAID --cancel--> CANCELED
///      |  \--cancel--> CANCELED
///      \--ttl--> EXPIRED
///
/// Stock is reserved when the order is placed and released on cancel/expiry; a paid order's
/// cancellation refunds the wallet.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/money.hpp"

namespace joopang {

enum class OrderStatus { kPending, kPaid, kCanceled, kExpired };
std::string_view ToString(OrderStatus s);
std::optional<OrderStatus> ParseOrderStatus(std::string_view s);

/// Whether an order in `from` may be paid / canceled / expired.
bool CanPay(OrderStatus from);
bool CanCancel(OrderStatus from);
bool CanExpire(OrderStatus from);

struct OrderLine {
    std::int64_t product_item_id = 0;
    std::int64_t product_id = 0;
    std::string product_name;
    std::int64_t quantity = 0;
    Money unit_price;
    Money subtotal;
};

struct Order {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string recipient_name;
    std::string memo;
    OrderStatus status = OrderStatus::kPending;
    std::vector<OrderLine> lines;
    Money total_amount;
    Money discount_amount;
    Money payable_amount;
    std::optional<std::int64_t> coupon_id;
    EpochMs ordered_at = 0;
    EpochMs expires_at = 0;
    std::optional<EpochMs> paid_at;
    std::optional<EpochMs> canceled_at;
};

/// Sums line subtotals (unit price × quantity) into `order.total_amount`; fails with
/// VALIDATION_FAILED when the total is too large to represent.
Status PriceLines(Order& order);

/// Sets discount and payable amounts (payable = total − discount, never negative).
void ApplyDiscount(Order& order, Money discount);

/// Whether `user_id` may pay `order` at `now`: its owner (else FORBIDDEN), PENDING and not past
/// its expiry (else ORDER_NOT_PAYABLE).
Status CheckPayable(const Order& order, std::int64_t user_id, EpochMs now);
/// Whether `user_id` may cancel `order`: its owner (else FORBIDDEN), PENDING or PAID (else
/// ORDER_NOT_CANCELABLE).
Status CheckCancelable(const Order& order, std::int64_t user_id);
/// What closing `order` (cancel or expiry) gives back to the wallet: a paid order's payable
/// amount, nothing for an unpaid one.
Money RefundOnClose(const Order& order);

/// The result of paying an order.
struct Payment {
    std::int64_t order_id = 0;
    Money paid_amount;
    Money remaining_balance;
    EpochMs paid_at = 0;
};

}  // namespace joopang
