#pragma once
/// Coupon discount rules. A PERCENTAGE coupon's value is a percent in (0, 100] held as a Money
/// (so "10.00" = 10 % is 1000 hundredths); an AMOUNT coupon's value is money.

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/money.hpp"

namespace joopang {

enum class CouponType { kPercentage, kAmount };
std::string_view ToString(CouponType t);
std::optional<CouponType> ParseCouponType(std::string_view s);

enum class CouponStatus { kAvailable, kUsed, kExpired };
std::string_view ToString(CouponStatus s);

/// The terms a coupon was issued with.
struct CouponTerms {
    CouponType type = CouponType::kAmount;
    Money value;
    Money min_order_amount;
    std::optional<Money> max_discount_amount;
};

/// The discount `terms` give on an order of `subtotal`: PERCENTAGE rounds down to the cent and is
/// capped by max_discount_amount; never more than the subtotal. COUPON_NOT_USABLE when the
/// subtotal is below min_order_amount.
Result<Money> ComputeDiscount(const CouponTerms& terms, Money subtotal);

/// A coupon held by a user (one row per issued coupon).
struct Coupon {
    std::int64_t id = 0;
    std::int64_t template_id = 0;
    std::int64_t user_id = 0;
    CouponTerms terms;
    bool used = false;
    EpochMs issued_at = 0;
    EpochMs expires_at = 0;
    std::optional<EpochMs> used_at;
    /// The order currently holding (PENDING) or having used (PAID) this coupon.
    std::optional<std::int64_t> order_id;

    CouponStatus StatusAt(EpochMs now) const {
        if (used) return CouponStatus::kUsed;
        return now >= expires_at ? CouponStatus::kExpired : CouponStatus::kAvailable;
    }
};

/// Checks that `coupon` can be applied by `user_id` to a new order at `now`.
Status CheckCouponUsable(const Coupon& coupon, std::int64_t user_id, EpochMs now);

}  // namespace joopang
