#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "app/shop_types.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "domain/cart.hpp"
#include "domain/order.hpp"

namespace joopang {

/// What a checkout orders: every line of the user's cart, as one order.
struct CheckoutRequest {
    std::int64_t user_id = 0;
    std::string recipient_name;
    std::optional<std::int64_t> coupon_id;
    std::string memo;
};

/// Carts, each operation one transaction. Blocking; thread-safe; correct with many service
/// processes sharing the database. Every call answers USER_NOT_FOUND for an unknown user.
class CartRepository {
  public:
    virtual ~CartRepository() = default;
    /// The cart with each line's price and stock as they are now.
    virtual Result<Cart> Read(std::int64_t user_id) = 0;
    /// Sets a line's quantity (0 removes it). ITEM_NOT_FOUND for an item that does not exist or
    /// is no longer on sale; VALIDATION_FAILED when a new line would exceed kMaxCartLines.
    virtual Result<Cart> SetLine(std::int64_t user_id,
                                 std::int64_t product_item_id,
                                 std::int64_t quantity,
                                 EpochMs now) = 0;
    /// Removes a line; ITEM_NOT_FOUND when the cart has no line for the item.
    virtual Result<Cart> RemoveLine(std::int64_t user_id, std::int64_t product_item_id) = 0;
    /// Places one order for every line of the cart and empties it, in one transaction: any
    /// failure (OUT_OF_STOCK, a coupon that cannot be used…) changes nothing. VALIDATION_FAILED
    /// for an empty cart.
    virtual Result<Order> Checkout(const CheckoutRequest& request,
                                   EpochMs now,
                                   EpochMs expires_at) = 0;
};

}  // namespace joopang
