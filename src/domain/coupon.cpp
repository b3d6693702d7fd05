#include "domain/coupon.hpp"

namespace joopang {

std::string_view ToString(CouponType t) {
    return t == CouponType::kPercentage ? "PERCENTAGE" : "AMOUNT";
}

std::optional<CouponType> ParseCouponType(std::string_view s) {
    if (s == "PERCENTAGE") return CouponType::kPercentage;
    if (s == "AMOUNT") return CouponType::kAmount;
    return std::nullopt;
}

std::string_view ToString(CouponStatus s) {
    switch (s) {
        case CouponStatus::kAvailable:
            return "AVAILABLE";
        case CouponStatus::kUsed:
            return "USED";
        case CouponStatus::kExpired:
            return "EXPIRED";
    }
    return "EXPIRED";
}

Result<Money> ComputeDiscount(const CouponTerms& terms, Money subtotal) {
    if (subtotal < terms.min_order_amount) {
        return Error{ErrorCode::kCouponNotUsable, "order amount " + subtotal.ToString() +
                                                      " is below the coupon minimum " +
                                                      terms.min_order_amount.ToString()};
    }
    Money discount;
    if (terms.type == CouponType::kAmount) {
        discount = terms.value;
    } else {
        // value is hundredths of a percent; subtotal cents * bp / 10000, rounded down.
        __int128 cents = static_cast<__int128>(subtotal.cents()) * terms.value.cents() / 10000;
        discount = Money::FromCents(static_cast<std::int64_t>(cents));
    }
    if (terms.max_discount_amount && discount > *terms.max_discount_amount)
        discount = *terms.max_discount_amount;
    if (discount > subtotal) discount = subtotal;
    if (discount.IsNegative()) discount = Money();
    return discount;
}

Status CheckCouponUsable(const Coupon& coupon, std::int64_t user_id, EpochMs now) {
    if (coupon.user_id != user_id)
        return Error{ErrorCode::kCouponNotUsable, "the coupon belongs to another user"};
    switch (coupon.StatusAt(now)) {
        case CouponStatus::kUsed:
            return Error{ErrorCode::kCouponNotUsable, "the coupon has been used"};
        case CouponStatus::kExpired:
            return Error{ErrorCode::kCouponNotUsable, "the coupon has expired"};
        case CouponStatus::kAvailable:
            break;
    }
    if (coupon.order_id)
        return Error{ErrorCode::kCouponNotUsable, "the coupon is held by another open order"};
    return {};
}

}  // namespace joopang
