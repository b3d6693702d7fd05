#include <gtest/gtest.h>

#include "domain/coupon.hpp"

using namespace joopang;

namespace {
Money M(const char* s) { return *Money::Parse(s); }
}  // namespace

TEST(CouponRules, PercentageRoundsDownToTheCent) {
    CouponTerms t{CouponType::kPercentage, M("10.00"), Money(), std::nullopt};
    EXPECT_EQ(ComputeDiscount(t, M("12345.67"))->ToString(), "1234.56");
}

TEST(CouponRules, PercentageIsCappedByMaxDiscount) {
    CouponTerms t{CouponType::kPercentage, M("50.00"), Money(), M("3000.00")};
    EXPECT_EQ(ComputeDiscount(t, M("10000.00"))->ToString(), "3000.00");
    EXPECT_EQ(ComputeDiscount(t, M("4000.00"))->ToString(), "2000.00");
}

TEST(CouponRules, AmountNeverExceedsTheSubtotal) {
    CouponTerms t{CouponType::kAmount, M("5000.00"), Money(), std::nullopt};
    EXPECT_EQ(ComputeDiscount(t, M("3000.00"))->ToString(), "3000.00");
    EXPECT_EQ(ComputeDiscount(t, M("8000.00"))->ToString(), "5000.00");
}

TEST(CouponRules, HundredPercentGivesTheWholeSubtotal) {
    CouponTerms t{CouponType::kPercentage, M("100.00"), Money(), std::nullopt};
    EXPECT_EQ(ComputeDiscount(t, M("999.99"))->ToString(), "999.99");
}

TEST(CouponRules, BelowMinimumOrderAmountIsNotUsable) {
    CouponTerms t{CouponType::kAmount, M("1000.00"), M("20000.00"), std::nullopt};
    auto r = ComputeDiscount(t, M("19999.99"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kCouponNotUsable);
    EXPECT_TRUE(ComputeDiscount(t, M("20000.00")));
}

TEST(CouponRules, UsabilityChecksOwnerUseExpiryAndHold) {
    Coupon c;
    c.user_id = 7;
    c.expires_at = 1000;
    EXPECT_TRUE(CheckCouponUsable(c, 7, 999));
    EXPECT_EQ(CheckCouponUsable(c, 8, 999).error().code, ErrorCode::kCouponNotUsable);
    EXPECT_FALSE(CheckCouponUsable(c, 7, 1000));  // expired at expires_at
    c.order_id = 5;
    EXPECT_FALSE(CheckCouponUsable(c, 7, 999));
    c.order_id.reset();
    c.used = true;
    EXPECT_EQ(c.StatusAt(0), CouponStatus::kUsed);
    EXPECT_FALSE(CheckCouponUsable(c, 7, 999));
}
