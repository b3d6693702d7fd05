#pragma once
#include "app/ports/cart_repository.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

/// Carts on the relational database (table `cart_items`: user, item, quantity).
///
/// Changing a cart locks the user's row first (`FOR UPDATE` on PostgreSQL; SQLite has one writer
/// at a time anyway), so that two concurrent additions cannot both pass the 100-line limit. A
/// checkout takes the same lock, then the cart's lines, then places the order exactly as
/// `POST /api/v1/orders` does
/// (order_placement.hpp: conditional stock updates in item-id order) and deletes the lines it
/// ordered, in the same transaction: out of stock anywhere, and nothing changes.
class SqlCartRepository final : public CartRepository {
  public:
    explicit SqlCartRepository(Db& db) : db_(db) {}
    Result<Cart> Read(std::int64_t user_id) override;
    Result<Cart> SetLine(std::int64_t user_id,
                         std::int64_t product_item_id,
                         std::int64_t quantity,
                         EpochMs now) override;
    Result<Cart> RemoveLine(std::int64_t user_id, std::int64_t product_item_id) override;
    Result<Order> Checkout(const CheckoutRequest& request,
                           EpochMs now,
                           EpochMs expires_at) override;

  private:
    Db& db_;
};

}  // namespace joopang::sql
