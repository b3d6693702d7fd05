#pragma once
/// The cart use cases (SPEC §3): read, set or remove a line, and check out — every line as one
/// order, all or nothing. Blocking: call from a blocking thread pool.

#include <cstdint>
#include <functional>

#include "app/ports/cart_repository.hpp"
#include "app/shop_service.hpp"
#include "common/clock.hpp"

namespace joopang {

class CartService {
  public:
    CartService(CartRepository& carts, ShopSettings settings, std::function<EpochMs()> now = NowMs)
        : carts_(carts), settings_(settings), now_(std::move(now)) {}

    Result<Cart> Read(std::int64_t user_id);
    /// Quantity 0 removes the line; 1..kMaxCartLineQuantity sets it.
    Result<Cart> SetLine(std::int64_t user_id, std::int64_t product_item_id, std::int64_t quantity);
    Result<Cart> RemoveLine(std::int64_t user_id, std::int64_t product_item_id);
    /// One order (PENDING, expiring after the order TTL) for every line; the cart is then empty.
    Result<Order> Checkout(const CheckoutRequest& request);

    /// Told of the stock a checkout takes (catalog caches); optional.
    void SetCatalogListener(CatalogListener* listener) { listener_ = listener; }

  private:
    CartRepository& carts_;
    ShopSettings settings_;
    std::function<EpochMs()> now_;
    CatalogListener* listener_ = nullptr;
};

}  // namespace joopang
