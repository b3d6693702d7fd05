#include "domain/cart.hpp"

namespace joopang {

Status CheckCartQuantity(std::int64_t quantity) {
    if (quantity < 0 || quantity > kMaxCartLineQuantity)
        return Error::Validation("quantity", "quantity must be between 0 (removes the line) and " +
                                                 std::to_string(kMaxCartLineQuantity));
    return {};
}

void Summarize(Cart& cart) {
    cart.total_quantity = 0;
    cart.total_amount = Money();
    cart.all_available = true;
    for (auto& line : cart.lines) {
        auto subtotal = line.unit_price.Times(line.quantity);
        if (!subtotal) line.available = false;
        line.subtotal = subtotal.value_or(Money::FromCents(Money::kMaxCents));
        cart.total_quantity += line.quantity;
        const std::int64_t sum = cart.total_amount.cents() + line.subtotal.cents();
        cart.total_amount = Money::FromCents(sum > Money::kMaxCents ? Money::kMaxCents : sum);
        cart.all_available = cart.all_available && line.available;
    }
}

}  // namespace joopang
