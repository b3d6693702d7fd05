#include <gtest/gtest.h>

#include "domain/order.hpp"

using namespace joopang;

TEST(OrderRules, OnlyPendingOrdersArePayableOrExpirable) {
    EXPECT_TRUE(CanPay(OrderStatus::kPending));
    for (auto s : {OrderStatus::kPaid, OrderStatus::kCanceled, OrderStatus::kExpired}) {
        EXPECT_FALSE(CanPay(s));
        EXPECT_FALSE(CanExpire(s));
    }
    EXPECT_TRUE(CanExpire(OrderStatus::kPending));
}

TEST(OrderRules, PendingAndPaidOrdersAreCancelable) {
    EXPECT_TRUE(CanCancel(OrderStatus::kPending));
    EXPECT_TRUE(CanCancel(OrderStatus::kPaid));
    EXPECT_FALSE(CanCancel(OrderStatus::kCanceled));
    EXPECT_FALSE(CanCancel(OrderStatus::kExpired));
}

TEST(OrderRules, StatusNamesRoundTrip) {
    for (auto s :
         {OrderStatus::kPending, OrderStatus::kPaid, OrderStatus::kCanceled, OrderStatus::kExpired})
        EXPECT_EQ(ParseOrderStatus(ToString(s)), s);
    EXPECT_FALSE(ParseOrderStatus("SHIPPED").has_value());
}

TEST(OrderRules, PricesLinesAndAppliesDiscount) {
    Order o;
    o.lines.push_back({1, 1, "a", 3, Money::FromCents(1250), {}});
    o.lines.push_back({2, 1, "b", 1, Money::FromCents(99), {}});
    ASSERT_TRUE(PriceLines(o));
    EXPECT_EQ(o.lines[0].subtotal.cents(), 3750);
    EXPECT_EQ(o.total_amount.cents(), 3849);
    ApplyDiscount(o, Money::FromCents(849));
    EXPECT_EQ(o.payable_amount.cents(), 3000);
    ApplyDiscount(o, Money::FromCents(10'000));  // more than the total
    EXPECT_EQ(o.discount_amount.cents(), 3849);
    EXPECT_EQ(o.payable_amount.cents(), 0);
}

TEST(OrderRules, RejectsTotalsTooLargeToRepresent) {
    Order o;
    o.lines.push_back({1, 1, "a", 1'000'000, Money::FromCents(Money::kMaxCents / 10), {}});
    auto st = PriceLines(o);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kValidationFailed);
    EXPECT_EQ(st.error().field, "items[0].quantity");
}

namespace joopang {
namespace {

Order OrderOf(std::int64_t user, OrderStatus status, EpochMs expires_at) {
    Order o;
    o.user_id = user;
    o.status = status;
    o.expires_at = expires_at;
    o.payable_amount = Money::FromCents(12'345);
    return o;
}

TEST(OrderRules, OnlyTheOwnerPaysAPendingOrderBeforeItExpires) {
    EXPECT_TRUE(CheckPayable(OrderOf(1, OrderStatus::kPending, 1000), 1, 999));
    EXPECT_EQ(CheckPayable(OrderOf(1, OrderStatus::kPending, 1000), 2, 999).error().code,
              ErrorCode::kForbidden);
    EXPECT_EQ(CheckPayable(OrderOf(1, OrderStatus::kPending, 1000), 1, 1000).error().code,
              ErrorCode::kOrderNotPayable)
        << "due at exactly its expiry time";
    EXPECT_EQ(CheckPayable(OrderOf(1, OrderStatus::kPaid, 1000), 1, 10).error().code,
              ErrorCode::kOrderNotPayable);
}

TEST(OrderRules, OnlyTheOwnerCancelsAPendingOrPaidOrder) {
    EXPECT_TRUE(CheckCancelable(OrderOf(1, OrderStatus::kPending, 0), 1));
    EXPECT_TRUE(CheckCancelable(OrderOf(1, OrderStatus::kPaid, 0), 1));
    EXPECT_EQ(CheckCancelable(OrderOf(1, OrderStatus::kPaid, 0), 2).error().code,
              ErrorCode::kForbidden);
    EXPECT_EQ(CheckCancelable(OrderOf(1, OrderStatus::kExpired, 0), 1).error().code,
              ErrorCode::kOrderNotCancelable);
}

TEST(OrderRules, ClosingRefundsWhatAPaidOrderPaidAndNothingOtherwise) {
    EXPECT_EQ(RefundOnClose(OrderOf(1, OrderStatus::kPaid, 0)).cents(), 12'345);
    EXPECT_EQ(RefundOnClose(OrderOf(1, OrderStatus::kPending, 0)).cents(), 0);
}

}  // namespace
}  // namespace joopang
