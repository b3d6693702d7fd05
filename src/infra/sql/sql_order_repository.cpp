#include "infra/sql/sql_order_repository.hpp"

#include <algorithm>
#include <map>

#include "domain/coupon.hpp"
#include "infra/sql/coupon_rows.hpp"
#include "infra/sql/order_placement.hpp"
#include "infra/sql/sql_util.hpp"

namespace joopang::sql {
namespace {

constexpr const char* kOrderColumns =
    "id, user_id, recipient_name, memo, status, total_amount, discount_amount, payable_amount, "
    "coupon_id, ordered_at, expires_at, paid_at, canceled_at";

Order ToOrder(const Row& r) {
    Order o;
    o.id = r.Int(0);
    o.user_id = r.Int(1);
    o.recipient_name = r.Text(2);
    o.memo = r.Text(3);
    o.status = ParseOrderStatus(r.Text(4)).value_or(OrderStatus::kPending);
    o.total_amount = Money::FromCents(r.Int(5));
    o.discount_amount = Money::FromCents(r.Int(6));
    o.payable_amount = Money::FromCents(r.Int(7));
    o.coupon_id = r.OptInt(8);
    o.ordered_at = r.Int(9);
    o.expires_at = r.Int(10);
    o.paid_at = r.OptInt(11);
    o.canceled_at = r.OptInt(12);
    return o;
}

Status AttachLines(Connection& c, std::vector<Order>& orders) {
    if (orders.empty()) return {};
    std::vector<Value> ids;
    std::map<std::int64_t, Order*> by_id;
    for (auto& o : orders) {
        ids.emplace_back(o.id);
        by_id[o.id] = &o;
    }
    auto r = c.Exec(
        "SELECT order_id, product_item_id, product_id, product_name, quantity, unit_price, "
        "subtotal FROM order_items WHERE order_id IN (" +
            Placeholders(ids.size()) + ") ORDER BY id",
        ids);
    if (!r) return r.error();
    for (const auto& row : r->rows) {
        OrderLine l;
        l.product_item_id = row.Int(1);
        l.product_id = row.Int(2);
        l.product_name = row.Text(3);
        l.quantity = row.Int(4);
        l.unit_price = Money::FromCents(row.Int(5));
        l.subtotal = Money::FromCents(row.Int(6));
        by_id[row.Int(0)]->lines.push_back(std::move(l));
    }
    return {};
}

Result<Order> LoadOrder(Connection& c, std::int64_t id) {
    auto r = c.Exec(std::string("SELECT ") + kOrderColumns + " FROM orders WHERE id = ?", {id});
    if (!r) return r.error();
    if (r->rows.empty())
        return Error{ErrorCode::kOrderNotFound, "order " + std::to_string(id) + " not found"};
    std::vector<Order> one{ToOrder(r->rows[0])};
    if (auto st = AttachLines(c, one); !st) return st.error();
    return std::move(one[0]);
}

/// Puts the stock of `order`'s lines back.
Status ReleaseStock(Connection& c, const Order& order) {
    for (const auto& l : ByItemId(order.lines)) {
        auto r = c.Exec("UPDATE product_items SET stock = stock + ? WHERE id = ?",
                        {l.quantity, l.product_item_id});
        if (!r) return r.error();
    }
    return {};
}

/// Adds `sign` × quantities to the products' sales counts, in product id order.
Status AddSales(Connection& c, const Order& order, std::int64_t sign) {
    std::map<std::int64_t, std::int64_t> per_product;
    for (const auto& l : order.lines) per_product[l.product_id] += l.quantity;
    for (auto [pid, qty] : per_product) {
        auto r = c.Exec("UPDATE products SET sales_count = sales_count + ? WHERE id = ?",
                        {sign * qty, pid});
        if (!r) return r.error();
    }
    return {};
}

/// The outbox event describing a paid or canceled order (ids and cents only, so no escaping).
/// `paidAt` is when the sale happened: a cancel takes it back from the rankings' bucket of that
/// time. Each line carries its product's category (0 for none), for per-category rankings.
std::string OrderEventPayload(const Order& o,
                              EpochMs at,
                              const std::map<std::int64_t, std::int64_t>& category_of) {
    std::string s =
        "{\"orderId\":" + std::to_string(o.id) + ",\"userId\":" + std::to_string(o.user_id) +
        ",\"at\":" + std::to_string(at) + ",\"paidAt\":" + std::to_string(o.paid_at.value_or(at)) +
        ",\"payableCents\":" + std::to_string(o.payable_amount.cents()) + ",\"items\":[";
    for (std::size_t i = 0; i < o.lines.size(); ++i) {
        const auto& l = o.lines[i];
        auto cat = category_of.find(l.product_id);
        if (i) s += ',';
        s += "{\"productId\":" + std::to_string(l.product_id) +
             ",\"categoryId\":" + std::to_string(cat == category_of.end() ? 0 : cat->second) +
             ",\"productItemId\":" + std::to_string(l.product_item_id) +
             ",\"quantity\":" + std::to_string(l.quantity) +
             ",\"amountCents\":" + std::to_string(l.subtotal.cents()) + "}";
    }
    return s + "]}";
}

Status WriteOutbox(Connection& c, const std::string& topic, const Order& o, EpochMs now) {
    std::map<std::int64_t, std::int64_t> category_of;
    for (const auto& l : o.lines) {
        if (category_of.count(l.product_id)) continue;
        auto r = c.Exec("SELECT category_id FROM products WHERE id = ?", {l.product_id});
        if (!r) return r.error();
        category_of[l.product_id] = r->rows.empty() || r->rows[0].IsNull(0) ? 0 : r->rows[0].Int(0);
    }
    auto r =
        c.Exec("INSERT INTO outbox(topic, aggregate_id, payload, created_at) VALUES (?, ?, ?, ?)",
               {topic, o.id, OrderEventPayload(o, now, category_of), now});
    if (!r) return r.error();
    return {};
}

/// Moves a PENDING or PAID order to `to` (CANCELED / EXPIRED), releasing what it holds.
/// Returns false when the order was no longer in `from` (someone else moved it first).
Result<bool> CloseOrder(Connection& c, Order& order, OrderStatus to, EpochMs now) {
    OrderStatus from = order.status;
    auto r = c.Exec("UPDATE orders SET status = ?, canceled_at = ? WHERE id = ? AND status = ?",
                    {std::string(ToString(to)), now, order.id, std::string(ToString(from))});
    if (!r) return r.error();
    if (r->affected == 0) return false;
    if (auto st = ReleaseStock(c, order); !st) return st.error();
    if (const Money refund = RefundOnClose(order); refund.cents() > 0) {
        auto r = c.Exec("UPDATE users SET balance = balance + ? WHERE id = ?",
                        {refund.cents(), order.user_id});
        if (!r) return r.error();
    }
    if (order.coupon_id) {
        auto cr = c.Exec(
            "UPDATE coupons SET order_id = NULL, used = 0, used_at = NULL "
            "WHERE id = ? AND order_id = ?",
            {*order.coupon_id, order.id});
        if (!cr) return cr.error();
    }
    if (from == OrderStatus::kPaid) {
        if (auto st = AddSales(c, order, -1); !st) return st.error();
        if (auto st = WriteOutbox(c, "order-canceled", order, now); !st) return st.error();
    }
    order.status = to;
    order.canceled_at = now;
    return true;
}

}  // namespace

Result<Order> SqlOrderRepository::Place(const PlaceOrderRequest& req,
                                        EpochMs now,
                                        EpochMs expires_at) {
    return db_.Transact<Order>(TxMode::kWrite, [&](Connection& c) -> Result<Order> {
        return PlaceOrderIn(c, req, now, expires_at);
    });
}

Result<Order> SqlOrderRepository::Find(std::int64_t order_id) {
    return db_.Transact<Order>(
        TxMode::kRead, [&](Connection& c) -> Result<Order> { return LoadOrder(c, order_id); });
}

Result<Page<Order>> SqlOrderRepository::ListByUser(std::int64_t user_id,
                                                   std::int64_t page,
                                                   std::int64_t size) {
    using Out = Page<Order>;
    return db_.Transact<Out>(TxMode::kRead, [&](Connection& c) -> Result<Out> {
        auto count = c.Exec("SELECT COUNT(*) FROM orders WHERE user_id = ?", {user_id});
        if (!count) return count.error();
        auto r = c.Exec(std::string("SELECT ") + kOrderColumns +
                            " FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                        {user_id, size, page * size});
        if (!r) return r.error();
        Out out;
        out.page = page;
        out.size = size;
        out.total = count->rows.at(0).Int(0);
        for (const auto& row : r->rows) out.items.push_back(ToOrder(row));
        if (auto st = AttachLines(c, out.items); !st) return st.error();
        return out;
    });
}

Result<Payment> SqlOrderRepository::Pay(std::int64_t order_id, std::int64_t user_id, EpochMs now) {
    return db_.Transact<Payment>(TxMode::kWrite, [&](Connection& c) -> Result<Payment> {
        auto order = LoadOrder(c, order_id);
        if (!order) return order.error();
        if (auto st = CheckPayable(*order, user_id, now); !st) return st.error();
        auto claimed = c.Exec(
            "UPDATE orders SET status = 'PAID', paid_at = ? WHERE id = ? AND status = 'PENDING'",
            {now, order_id});
        if (!claimed) return claimed.error();
        if (claimed->affected == 0)
            return Error{ErrorCode::kOrderNotPayable, "order is no longer PENDING"};
        auto debit = c.Exec(
            "UPDATE users SET balance = balance - ? WHERE id = ? AND balance >= ? "
            "RETURNING balance",
            {order->payable_amount.cents(), user_id, order->payable_amount.cents()});
        if (!debit) return debit.error();
        if (debit->rows.empty())
            return Error{ErrorCode::kInsufficientBalance,
                         "the wallet cannot pay " + order->payable_amount.ToString()};
        if (order->coupon_id) {
            auto r = c.Exec(
                "UPDATE coupons SET used = 1, used_at = ? WHERE id = ? AND order_id = ? AND "
                "used = 0",
                {now, *order->coupon_id, order_id});
            if (!r) return r.error();
            if (r->affected == 0)
                return Error{ErrorCode::kCouponNotUsable, "the order's coupon is not usable"};
        }
        if (auto st = AddSales(c, *order, +1); !st) return st.error();
        order->status = OrderStatus::kPaid;
        if (auto st = WriteOutbox(c, "order-paid", *order, now); !st) return st.error();
        Payment p;
        p.order_id = order_id;
        p.paid_amount = order->payable_amount;
        p.remaining_balance = Money::FromCents(debit->rows[0].Int(0));
        p.paid_at = now;
        return p;
    });
}

Result<Order> SqlOrderRepository::Cancel(std::int64_t order_id, std::int64_t user_id, EpochMs now) {
    return db_.Transact<Order>(TxMode::kWrite, [&](Connection& c) -> Result<Order> {
        auto order = LoadOrder(c, order_id);
        if (!order) return order.error();
        if (auto st = CheckCancelable(*order, user_id); !st) return st.error();
        auto closed = CloseOrder(c, *order, OrderStatus::kCanceled, now);
        if (!closed) return closed.error();
        if (!*closed) return Error{ErrorCode::kOrderNotCancelable, "order changed state meanwhile"};
        return std::move(*order);
    });
}

Result<std::vector<Order>> SqlOrderRepository::ExpireDue(EpochMs now, int limit) {
    auto due = db_.Transact<std::vector<std::int64_t>>(
        TxMode::kNone, [&](Connection& c) -> Result<std::vector<std::int64_t>> {
            auto r = c.Exec(
                "SELECT id FROM orders WHERE status = 'PENDING' AND expires_at <= ? "
                "ORDER BY expires_at LIMIT ?",
                {now, std::int64_t{limit}});
            if (!r) return r.error();
            std::vector<std::int64_t> ids;
            for (const auto& row : r->rows) ids.push_back(row.Int(0));
            return ids;
        });
    if (!due) return due.error();
    std::vector<Order> expired;
    for (std::int64_t id : *due) {
        auto done = db_.Transact<std::optional<Order>>(
            TxMode::kWrite, [&](Connection& c) -> Result<std::optional<Order>> {
                auto order = LoadOrder(c, id);
                if (!order) return order.error();
                if (!CanExpire(order->status)) return std::optional<Order>{};
                auto closed = CloseOrder(c, *order, OrderStatus::kExpired, now);
                if (!closed) return closed.error();
                if (!*closed) return std::optional<Order>{};
                return std::optional<Order>(std::move(*order));
            });
        if (!done) return done.error();
        if (*done) expired.push_back(std::move(**done));
    }
    return expired;
}

}  // namespace joopang::sql
