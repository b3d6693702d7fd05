#pragma once
/// Releases unpaid orders whose time ran out (their stock and coupon go back), in chunks, until
/// none is due. A periodic job on every instance: conditional updates make concurrent runs safe.

#include <functional>

#include "app/catalog_listener.hpp"
#include "app/ports/order_repository.hpp"
#include "common/clock.hpp"

namespace joopang {

class OrderExpiry {
  public:
    /// `now` is the clock the expiry times are compared with (injectable for tests).
    explicit OrderExpiry(OrderRepository& orders,
                         std::function<EpochMs()> now = NowMs,
                         int chunk = 200)
        : orders_(orders), now_(std::move(now)), chunk_(chunk) {}

    /// Expires every due order; returns how many. Blocking (database).
    Result<int> ExpireDue();

    /// Told when orders expired: their products' stock is back.
    void SetCatalogListener(CatalogListener* listener) { listener_ = listener; }

  private:
    OrderRepository& orders_;
    std::function<EpochMs()> now_;
    int chunk_;
    CatalogListener* listener_ = nullptr;
};

}  // namespace joopang
