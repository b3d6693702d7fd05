#pragma once
#include <vector>

#include "app/coupon_service.hpp"
#include "http/router.hpp"
#include "http/stream_admin.hpp"

namespace joopang::http {

/// SPEC §4: coupon templates (admin), issue, issue-request status, a user's coupons.
void RegisterCouponRoutes(Router& router, CouponService& coupons);
/// SPEC §4/§7 operations: the figures and dead-letter replay of every stream family in `streams`,
/// reconciliation.
void RegisterAdminRoutes(Router& router, CouponService& coupons, std::vector<StreamAdmin> streams);

}  // namespace joopang::http
