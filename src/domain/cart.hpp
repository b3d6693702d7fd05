#pragma once
/// A user's cart (SPEC §3): lines of product items with quantities, read with each item's price
/// and stock as they are now, not as they were when the line was added.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/money.hpp"

namespace joopang {

/// Most lines one cart holds, and most units one line holds.
inline constexpr std::int64_t kMaxCartLines = 100;
inline constexpr std::int64_t kMaxCartLineQuantity = 999;

struct CartLine {
    std::int64_t product_item_id = 0;
    std::int64_t product_id = 0;
    std::string product_name;
    std::string item_name;
    Money unit_price;  // the item's price now
    std::int64_t quantity = 0;
    Money subtotal;
    /// The item is on sale and has at least `quantity` in stock now.
    bool available = false;
    /// The item's stock now (0 when it is no longer on sale).
    std::int64_t available_stock = 0;
};

struct Cart {
    std::int64_t user_id = 0;
    std::vector<CartLine> lines;  // by item id
    std::int64_t total_quantity = 0;
    Money total_amount;
    bool all_available = true;  // an empty cart has nothing unavailable
};

/// VALIDATION_FAILED (field "quantity") unless 0 <= quantity <= kMaxCartLineQuantity; 0 removes.
Status CheckCartQuantity(std::int64_t quantity);

/// Sets each line's subtotal and the cart's totals; each line's `available` is the reader's (on
/// sale, enough stock). A subtotal beyond Money's range reads as the largest amount and the line
/// as unavailable (no such order could be placed).
void Summarize(Cart& cart);

}  // namespace joopang
