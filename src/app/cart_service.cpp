#include "app/cart_service.hpp"

namespace joopang {
namespace {

Status CheckItemId(std::int64_t product_item_id) {
    if (product_item_id <= 0)
        return Error::Validation("productItemId", "productItemId must be a positive id");
    return {};
}

}  // namespace

Result<Cart> CartService::Read(std::int64_t user_id) { return carts_.Read(user_id); }

Result<Cart> CartService::SetLine(std::int64_t user_id,
                                  std::int64_t product_item_id,
                                  std::int64_t quantity) {
    if (auto s = CheckItemId(product_item_id); !s) return s.error();
    if (auto s = CheckCartQuantity(quantity); !s) return s.error();
    return carts_.SetLine(user_id, product_item_id, quantity, now_());
}

Result<Cart> CartService::RemoveLine(std::int64_t user_id, std::int64_t product_item_id) {
    if (auto s = CheckItemId(product_item_id); !s) return s.error();
    return carts_.RemoveLine(user_id, product_item_id);
}

Result<Order> CartService::Checkout(const CheckoutRequest& request) {
    if (auto s = ShopService::CheckOrderDetails(request.recipient_name, request.memo); !s)
        return s.error();
    const EpochMs now = now_();
    auto placed = carts_.Checkout(request, now, now + settings_.order_ttl_ms);
    if (placed && listener_) listener_->Changed(CatalogChange::kStock, ProductsOf(*placed));
    return placed;
}

}  // namespace joopang
