#include "infra/sql/order_placement.hpp"

#include <algorithm>

#include "domain/coupon.hpp"
#include "infra/sql/coupon_rows.hpp"
#include "infra/sql/sql_util.hpp"

namespace joopang::sql {
namespace {

Result<Coupon> LoadCoupon(Connection& c, std::int64_t id) {
    auto r = c.Exec(std::string("SELECT ") + kCouponColumns + " FROM coupons WHERE id = ?", {id});
    if (!r) return r.error();
    if (r->rows.empty())
        return Error{ErrorCode::kCouponNotFound, "coupon " + std::to_string(id) + " not found",
                     "couponId"};
    return CouponFromRow(r->rows[0]);
}

}  // namespace

/// Lines sorted by item id: the one lock order for stock rows.
std::vector<OrderLine> ByItemId(std::vector<OrderLine> lines) {
    std::sort(lines.begin(), lines.end(),
              [](const auto& a, const auto& b) { return a.product_item_id < b.product_item_id; });
    return lines;
}

Result<Order> PlaceOrderIn(Connection& c,
                           const PlaceOrderRequest& req,
                           EpochMs now,
                           EpochMs expires_at) {
    auto user = c.Exec("SELECT 1 FROM users WHERE id = ?", {req.user_id});
    if (!user) return user.error();
    if (user->rows.empty())
        return Error{ErrorCode::kUserNotFound, "user " + std::to_string(req.user_id) + " not found",
                     "userId"};
    Order order;
    order.user_id = req.user_id;
    order.recipient_name = req.recipient_name;
    order.memo = req.memo;
    order.ordered_at = now;
    order.expires_at = expires_at;
    for (std::size_t i = 0; i < req.items.size(); ++i) {
        const auto& line = req.items[i];
        auto r = c.Exec(
            "SELECT i.product_id, p.name, i.unit_price, i.active FROM product_items i "
            "JOIN products p ON p.id = i.product_id WHERE i.id = ?",
            {line.product_item_id});
        if (!r) return r.error();
        if (r->rows.empty() || r->rows[0].Int(3) == 0)
            return Error{ErrorCode::kItemNotFound,
                         "item " + std::to_string(line.product_item_id) + " not found",
                         "items[" + std::to_string(i) + "].productItemId"};
        OrderLine l;
        l.product_item_id = line.product_item_id;
        l.product_id = r->rows[0].Int(0);
        l.product_name = r->rows[0].Text(1);
        l.unit_price = Money::FromCents(r->rows[0].Int(2));
        l.quantity = line.quantity;
        order.lines.push_back(std::move(l));
    }
    if (auto st = PriceLines(order); !st) return st.error();
    for (const auto& l : ByItemId(order.lines)) {
        auto r = c.Exec("UPDATE product_items SET stock = stock - ? WHERE id = ? AND stock >= ?",
                        {l.quantity, l.product_item_id, l.quantity});
        if (!r) return r.error();
        if (r->affected == 0)
            return Error{ErrorCode::kOutOfStock,
                         "not enough stock for item " + std::to_string(l.product_item_id) + " (" +
                             l.product_name + "): " + std::to_string(l.quantity) + " requested"};
    }
    std::optional<Coupon> coupon;
    if (req.coupon_id) {
        auto cp = LoadCoupon(c, *req.coupon_id);
        if (!cp) return cp.error();
        if (auto st = CheckCouponUsable(*cp, req.user_id, now); !st) return st.error();
        auto discount = ComputeDiscount(cp->terms, order.total_amount);
        if (!discount) return discount.error();
        ApplyDiscount(order, *discount);
        order.coupon_id = cp->id;
        coupon = *cp;
    }
    auto ins = c.Exec(
        "INSERT INTO orders(user_id, recipient_name, memo, status, total_amount, "
        "discount_amount, payable_amount, coupon_id, ordered_at, expires_at) VALUES (?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {order.user_id, order.recipient_name, order.memo,
         std::string(ToString(OrderStatus::kPending)), order.total_amount.cents(),
         order.discount_amount.cents(), order.payable_amount.cents(), OptValue(order.coupon_id),
         order.ordered_at, order.expires_at});
    if (!ins) return ins.error();
    order.id = ins->rows.at(0).Int(0);
    for (auto& l : order.lines) {
        auto r = c.Exec(
            "INSERT INTO order_items(order_id, product_item_id, product_id, product_name, "
            "quantity, unit_price, subtotal) VALUES (?, ?, ?, ?, ?, ?, ?)",
            {order.id, l.product_item_id, l.product_id, l.product_name, l.quantity,
             l.unit_price.cents(), l.subtotal.cents()});
        if (!r) return r.error();
    }
    if (coupon) {
        // Holds the coupon for this order; a concurrent order holding it first wins.
        auto r =
            c.Exec("UPDATE coupons SET order_id = ? WHERE id = ? AND order_id IS NULL AND used = 0",
                   {order.id, coupon->id});
        if (!r) return r.error();
        if (r->affected == 0)
            return Error{ErrorCode::kCouponNotUsable, "the coupon is held by another order",
                         "couponId"};
    }
    return order;
}

}  // namespace joopang::sql
