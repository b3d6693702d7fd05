#include "infra/sql/sql_cart_repository.hpp"

#include <string>

#include "infra/sql/order_placement.hpp"

namespace joopang::sql {
namespace {

/// " FOR UPDATE" where the dialect has row locks (PostgreSQL); SQLite's write transactions
/// already exclude each other.
const char* ForUpdate(const Connection& c) {
    return c.dialect() == Dialect::kPostgres ? " FOR UPDATE" : "";
}

/// USER_NOT_FOUND unless the user exists; `lock` locks its row for the transaction.
Status FindUser(Connection& c, std::int64_t user_id, bool lock) {
    auto r = c.Exec(std::string("SELECT 1 FROM users WHERE id = ?") + (lock ? ForUpdate(c) : ""),
                    {user_id});
    if (!r) return r.error();
    if (r->rows.empty())
        return Error{ErrorCode::kUserNotFound, "user " + std::to_string(user_id) + " not found"};
    return {};
}

/// The cart with every line's item as it is now.
Result<Cart> LoadCart(Connection& c, std::int64_t user_id) {
    auto r = c.Exec(
        "SELECT c.product_item_id, i.product_id, p.name, i.name, i.unit_price, c.quantity, "
        "i.stock, i.active FROM cart_items c JOIN product_items i ON i.id = c.product_item_id "
        "JOIN products p ON p.id = i.product_id WHERE c.user_id = ? ORDER BY c.product_item_id",
        {user_id});
    if (!r) return r.error();
    Cart cart;
    cart.user_id = user_id;
    for (const auto& row : r->rows) {
        CartLine l;
        l.product_item_id = row.Int(0);
        l.product_id = row.Int(1);
        l.product_name = row.Text(2);
        l.item_name = row.Text(3);
        l.unit_price = Money::FromCents(row.Int(4));
        l.quantity = row.Int(5);
        const bool on_sale = row.Int(7) != 0;
        l.available_stock = on_sale ? row.Int(6) : 0;
        l.available = on_sale && l.available_stock >= l.quantity;
        cart.lines.push_back(std::move(l));
    }
    Summarize(cart);
    return cart;
}

}  // namespace

Result<Cart> SqlCartRepository::Read(std::int64_t user_id) {
    return db_.Transact<Cart>(TxMode::kRead, [&](Connection& c) -> Result<Cart> {
        if (auto st = FindUser(c, user_id, false); !st) return st.error();
        return LoadCart(c, user_id);
    });
}

Result<Cart> SqlCartRepository::SetLine(std::int64_t user_id,
                                        std::int64_t product_item_id,
                                        std::int64_t quantity,
                                        EpochMs now) {
    return db_.Transact<Cart>(TxMode::kWrite, [&](Connection& c) -> Result<Cart> {
        if (auto st = FindUser(c, user_id, true); !st) return st.error();
        if (quantity == 0) {
            auto d = c.Exec("DELETE FROM cart_items WHERE user_id = ? AND product_item_id = ?",
                            {user_id, product_item_id});
            if (!d) return d.error();
            return LoadCart(c, user_id);
        }
        auto item =
            c.Exec("SELECT 1 FROM product_items WHERE id = ? AND active <> 0", {product_item_id});
        if (!item) return item.error();
        if (item->rows.empty())
            return Error{ErrorCode::kItemNotFound,
                         "item " + std::to_string(product_item_id) + " not found", "productItemId"};
        auto lines = c.Exec(
            "SELECT COUNT(*), SUM(CASE WHEN product_item_id = ? THEN 1 ELSE 0 END) "
            "FROM cart_items WHERE user_id = ?",
            {product_item_id, user_id});
        if (!lines) return lines.error();
        const bool has_line = lines->rows[0].Int(1) > 0;
        if (!has_line && lines->rows[0].Int(0) >= kMaxCartLines)
            return Error::Validation("productItemId", "a cart holds at most " +
                                                          std::to_string(kMaxCartLines) + " lines");
        auto up = c.Exec(
            "INSERT INTO cart_items(user_id, product_item_id, quantity, added_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (user_id, product_item_id) "
            "DO UPDATE SET quantity = excluded.quantity",
            {user_id, product_item_id, quantity, now});
        if (!up) return up.error();
        return LoadCart(c, user_id);
    });
}

Result<Cart> SqlCartRepository::RemoveLine(std::int64_t user_id, std::int64_t product_item_id) {
    return db_.Transact<Cart>(TxMode::kWrite, [&](Connection& c) -> Result<Cart> {
        if (auto st = FindUser(c, user_id, true); !st) return st.error();
        auto d = c.Exec("DELETE FROM cart_items WHERE user_id = ? AND product_item_id = ?",
                        {user_id, product_item_id});
        if (!d) return d.error();
        if (d->affected == 0)
            return Error{ErrorCode::kItemNotFound,
                         "item " + std::to_string(product_item_id) + " is not in the cart",
                         "productItemId"};
        return LoadCart(c, user_id);
    });
}

Result<Order> SqlCartRepository::Checkout(const CheckoutRequest& request,
                                          EpochMs now,
                                          EpochMs expires_at) {
    return db_.Transact<Order>(TxMode::kWrite, [&](Connection& c) -> Result<Order> {
        // The user's row first, as a cart change takes it: then the cart's lines, then stock.
        if (auto st = FindUser(c, request.user_id, true); !st) return st.error();
        auto lines = c.Exec(std::string("SELECT product_item_id, quantity FROM cart_items "
                                        "WHERE user_id = ? ORDER BY product_item_id") +
                                ForUpdate(c),
                            {request.user_id});
        if (!lines) return lines.error();
        if (lines->rows.empty()) return Error::Validation("cart", "the cart is empty");
        PlaceOrderRequest order;
        order.user_id = request.user_id;
        order.recipient_name = request.recipient_name;
        order.coupon_id = request.coupon_id;
        order.memo = request.memo;
        for (const auto& row : lines->rows) order.items.push_back({row.Int(0), row.Int(1)});
        auto placed = PlaceOrderIn(c, order, now, expires_at);
        if (!placed) return placed.error();
        // Only the lines just ordered (no other can be added meanwhile: the user's row is held).
        for (const auto& line : order.items) {
            auto d = c.Exec("DELETE FROM cart_items WHERE user_id = ? AND product_item_id = ?",
                            {request.user_id, line.product_item_id});
            if (!d) return d.error();
        }
        return placed;
    });
}

}  // namespace joopang::sql
