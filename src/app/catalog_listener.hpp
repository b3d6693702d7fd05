#pragma once
#include <cstdint>
#include <vector>

namespace joopang {

/// What changed: products themselves (created, updated: their page and the lists they are in),
/// or only their stock (orders, cancels, checkouts, expiries: stock shown may lag a moment).
enum class CatalogChange { kProducts, kStock };

/// Told by the use cases after a committed change to products or their stock, so that cached
/// reads of them are dropped (CatalogChanges). Empty ids: any or all products.
class CatalogListener {
  public:
    virtual ~CatalogListener() = default;
    virtual void Changed(CatalogChange kind, const std::vector<std::int64_t>& product_ids) = 0;
};

/// The products an order's lines belong to.
template <class Order>
std::vector<std::int64_t> ProductsOf(const Order& order) {
    std::vector<std::int64_t> ids;
    for (const auto& line : order.lines) ids.push_back(line.product_id);
    return ids;
}

}  // namespace joopang
