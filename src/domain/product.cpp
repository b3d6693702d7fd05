#include "domain/product.hpp"

namespace joopang {

std::string_view ToString(ItemStatus s) {
    switch (s) {
        case ItemStatus::kActive:
            return "ACTIVE";
        case ItemStatus::kSoldOut:
            return "SOLD_OUT";
        case ItemStatus::kInactive:
            return "INACTIVE";
    }
    return "INACTIVE";
}

std::int64_t Product::TotalStock() const {
    std::int64_t total = 0;
    for (const auto& i : items) total += i.stock;
    return total;
}

std::optional<ProductSort> ParseProductSort(std::string_view s) {
    if (s == "NEWEST") return ProductSort::kNewest;
    if (s == "SALES") return ProductSort::kSales;
    if (s == "PRICE_ASC") return ProductSort::kPriceAsc;
    if (s == "PRICE_DESC") return ProductSort::kPriceDesc;
    return std::nullopt;
}

}  // namespace joopang
