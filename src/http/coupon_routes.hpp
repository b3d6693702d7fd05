#pragma once
#include "app/coupon_service.hpp"
#include "http/router.hpp"

namespace joopang::http {

/// SPEC §4: coupon templates (admin), issue, issue-request status, a user's coupons.
void RegisterCouponRoutes(Router& router, CouponService& coupons);
/// SPEC §4/§7 operations: stream figures, dead-letter replay, reconciliation.
void RegisterAdminRoutes(Router& router, CouponService& coupons, CouponIssueQueue& queue);

}  // namespace joopang::http
