#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/money.hpp"

namespace joopang {

struct Category {
    std::int64_t id = 0;
    std::string name;
    std::optional<std::int64_t> parent_id;
};

enum class ItemStatus { kActive, kSoldOut, kInactive };
std::string_view ToString(ItemStatus s);

/// A stocked variant of a product (size, colour…). Stock never goes below zero.
struct ProductItem {
    std::int64_t id = 0;
    std::int64_t product_id = 0;
    std::string name;
    std::string code;
    Money unit_price;
    std::int64_t stock = 0;
    bool active = true;

    ItemStatus status() const {
        if (!active) return ItemStatus::kInactive;
        return stock > 0 ? ItemStatus::kActive : ItemStatus::kSoldOut;
    }
};

struct Product {
    std::int64_t id = 0;
    std::string name;
    std::string code;
    std::string description;
    Money price;
    /// Hundredths of a percent: 1000 = 10.00 %.
    std::int64_t discount_rate_bp = 0;
    std::optional<std::int64_t> category_id;
    std::int64_t version = 0;
    std::int64_t view_count = 0;
    std::int64_t sales_count = 0;
    EpochMs created_at = 0;
    std::vector<ProductItem> items;

    std::int64_t TotalStock() const;
};

/// Product list order, as named on the wire.
enum class ProductSort { kNewest, kSales, kPriceAsc, kPriceDesc };
std::optional<ProductSort> ParseProductSort(std::string_view s);

}  // namespace joopang
