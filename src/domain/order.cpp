#include "domain/order.hpp"

namespace joopang {

std::string_view ToString(OrderStatus s) {
    switch (s) {
        case OrderStatus::kPending:
            return "PENDING";
        case OrderStatus::kPaid:
            return "PAID";
        case OrderStatus::kCanceled:
            return "CANCELED";
        case OrderStatus::kExpired:
            return "EXPIRED";
    }
    return "PENDING";
}

std::optional<OrderStatus> ParseOrderStatus(std::string_view s) {
    if (s == "PENDING") return OrderStatus::kPending;
    if (s == "PAID") return OrderStatus::kPaid;
    if (s == "CANCELED") return OrderStatus::kCanceled;
    if (s == "EXPIRED") return OrderStatus::kExpired;
    return std::nullopt;
}

bool CanPay(OrderStatus from) { return from == OrderStatus::kPending; }
bool CanCancel(OrderStatus from) {
    return from == OrderStatus::kPending || from == OrderStatus::kPaid;
}
bool CanExpire(OrderStatus from) { return from == OrderStatus::kPending; }

Status CheckPayable(const Order& order, std::int64_t user_id, EpochMs now) {
    if (order.user_id != user_id)
        return Error{ErrorCode::kForbidden, "the order belongs to another user"};
    if (!CanPay(order.status))
        return Error{ErrorCode::kOrderNotPayable,
                     "order is " + std::string(ToString(order.status))};
    if (order.expires_at <= now) return Error{ErrorCode::kOrderNotPayable, "order has expired"};
    return {};
}

Status CheckCancelable(const Order& order, std::int64_t user_id) {
    if (order.user_id != user_id)
        return Error{ErrorCode::kForbidden, "the order belongs to another user"};
    if (!CanCancel(order.status))
        return Error{ErrorCode::kOrderNotCancelable,
                     "order is " + std::string(ToString(order.status))};
    return {};
}

Money RefundOnClose(const Order& order) {
    return order.status == OrderStatus::kPaid ? order.payable_amount : Money();
}

Status PriceLines(Order& order) {
    Money total;
    for (std::size_t i = 0; i < order.lines.size(); ++i) {
        auto& line = order.lines[i];
        auto subtotal = line.unit_price.Times(line.quantity);
        if (!subtotal)
            return Error::Validation("items[" + std::to_string(i) + "].quantity",
                                     "line amount is too large");
        line.subtotal = *subtotal;
        total = total + *subtotal;
        if (total.cents() > Money::kMaxCents)
            return Error::Validation("items", "order amount is too large");
    }
    order.total_amount = total;
    order.discount_amount = Money();
    order.payable_amount = total;
    return {};
}

void ApplyDiscount(Order& order, Money discount) {
    if (discount > order.total_amount) discount = order.total_amount;
    order.discount_amount = discount;
    order.payable_amount = order.total_amount - discount;
}

}  // namespace joopang
