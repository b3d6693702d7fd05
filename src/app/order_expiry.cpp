#include "app/order_expiry.hpp"

#include <algorithm>
#include <vector>

namespace joopang {

Result<int> OrderExpiry::ExpireDue() {
    const EpochMs now = now_();
    int total = 0;
    for (;;) {
        auto expired = orders_.ExpireDue(now, chunk_);
        if (!expired) return expired.error();
        if (!expired->empty() && listener_) {
            std::vector<std::int64_t> products;
            for (const auto& order : *expired) {
                auto of = ProductsOf(order);
                products.insert(products.end(), of.begin(), of.end());
            }
            std::sort(products.begin(), products.end());
            products.erase(std::unique(products.begin(), products.end()), products.end());
            listener_->Changed(CatalogChange::kStock, products);
        }
        const int n = static_cast<int>(expired->size());
        total += n;
        if (n < chunk_) return total;
    }
}

}  // namespace joopang
