#include "app/order_expiry.hpp"

namespace joopang {

Result<int> OrderExpiry::ExpireDue() {
    const EpochMs now = now_();
    int total = 0;
    for (;;) {
        auto n = orders_.ExpireDue(now, chunk_);
        if (n && *n > 0 && listener_) listener_->Changed(CatalogChange::kStock, {});
        if (!n) return n.error();
        total += *n;
        if (*n < chunk_) return total;
    }
}

}  // namespace joopang
