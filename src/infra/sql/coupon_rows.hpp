#pragma once
/// The one mapping between a `coupons` row and a Coupon, shared by the repositories that read
/// coupons (orders hold and use them; the coupon repository lists them).

#include "domain/coupon.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

/// Select list for CouponFromRow, in its column order (qualify with a table alias if needed).
inline constexpr const char* kCouponColumns =
    "id, template_id, user_id, type, value, min_order_amount, max_discount_amount, used, "
    "issued_at, expires_at, used_at, order_id";
inline constexpr const char* kCouponColumnsOfC =
    "c.id, c.template_id, c.user_id, c.type, c.value, c.min_order_amount, "
    "c.max_discount_amount, c.used, c.issued_at, c.expires_at, c.used_at, c.order_id";

inline Coupon CouponFromRow(const Row& row) {
    Coupon cp;
    cp.id = row.Int(0);
    cp.template_id = row.Int(1);
    cp.user_id = row.Int(2);
    cp.terms.type = ParseCouponType(row.Text(3)).value_or(CouponType::kAmount);
    cp.terms.value = Money::FromCents(row.Int(4));
    cp.terms.min_order_amount = Money::FromCents(row.Int(5));
    if (auto m = row.OptInt(6)) cp.terms.max_discount_amount = Money::FromCents(*m);
    cp.used = row.Int(7) != 0;
    cp.issued_at = row.Int(8);
    cp.expires_at = row.Int(9);
    cp.used_at = row.OptInt(10);
    cp.order_id = row.OptInt(11);
    return cp;
}

}  // namespace joopang::sql
