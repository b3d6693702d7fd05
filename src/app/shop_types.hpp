#pragma once
/// Inputs of the shop use cases (already type-checked by the caller; business rules are checked
/// by the use cases) and paging helpers.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/money.hpp"
#include "domain/product.hpp"

namespace joopang {

struct NewUser {
    std::string email;
    std::string password;
    std::string first_name;
    std::string last_name;
    Money balance;
};

struct NewItem {
    std::string name;
    std::string code;
    Money unit_price;
    std::int64_t stock = 0;
};

struct NewProduct {
    std::string name;
    std::string code;
    std::string description;
    Money price;
    std::int64_t discount_rate_bp = 0;
    std::optional<std::int64_t> category_id;
    std::vector<NewItem> items;
};

/// An item change inside a product update: `id` set = change that item, unset = add a new one.
struct ItemUpdate {
    std::optional<std::int64_t> id;
    std::optional<std::string> name;
    std::optional<std::string> code;
    std::optional<Money> unit_price;
    std::optional<std::int64_t> stock;
};

/// A partial product update guarded by the version the caller last read.
struct ProductUpdate {
    std::int64_t version = 0;
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::optional<Money> price;
    std::optional<std::int64_t> discount_rate_bp;
    std::optional<std::optional<std::int64_t>> category_id;  // set to null clears it
    std::vector<ItemUpdate> items;
};

struct ProductQuery {
    std::optional<std::int64_t> category_id;
    ProductSort sort = ProductSort::kNewest;
    std::int64_t page = 0;
    std::int64_t size = 20;
};

template <class T>
struct Page {
    std::vector<T> items;
    std::int64_t page = 0;
    std::int64_t size = 0;
    std::int64_t total = 0;
};

struct OrderLineRequest {
    std::int64_t product_item_id = 0;
    std::int64_t quantity = 0;
};

struct PlaceOrderRequest {
    std::int64_t user_id = 0;
    std::string recipient_name;
    std::vector<OrderLineRequest> items;
    std::optional<std::int64_t> coupon_id;
    std::string memo;
};

struct StockCheck {
    std::int64_t product_id = 0;
    bool available = false;
    std::int64_t current_stock = 0;
    std::int64_t requested = 0;
};

/// Upper bounds on inputs that keep every computation inside int64.
inline constexpr std::int64_t kMaxQuantity = 1'000'000;
inline constexpr std::int64_t kMaxStock = 1'000'000'000;
inline constexpr std::size_t kMaxOrderLines = 100;
inline constexpr std::size_t kMaxTextLength = 1000;

}  // namespace joopang
