// The order-expiry use case with an in-memory order store and an injected clock.

#include "app/order_expiry.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace joopang {
namespace {

/// Only ExpireDue is real: pending orders are their expiry times.
class PendingOrders final : public OrderRepository {
  public:
    std::vector<EpochMs> pending;  // expiry times of PENDING orders
    int calls = 0;
    bool fail = false;

    Result<int> ExpireDue(EpochMs now, int limit) override {
        ++calls;
        if (fail) return Error::Unavailable("database down");
        int n = 0;
        for (auto it = pending.begin(); it != pending.end() && n < limit;) {
            if (*it <= now) {
                it = pending.erase(it);
                ++n;
            } else {
                ++it;
            }
        }
        return n;
    }
    Result<Order> Place(const PlaceOrderRequest&, EpochMs, EpochMs) override { return Unused(); }
    Result<Order> Find(std::int64_t) override { return Unused(); }
    Result<Page<Order>> ListByUser(std::int64_t, std::int64_t, std::int64_t) override {
        return Unused();
    }
    Result<Payment> Pay(std::int64_t, std::int64_t, EpochMs) override { return Unused(); }
    Result<Order> Cancel(std::int64_t, std::int64_t, EpochMs) override { return Unused(); }

  private:
    static Error Unused() { return Error::Internal("not used by order expiry"); }
};

TEST(OrderExpiry, ExpiresOnlyOrdersWhoseTimeHasPassedOnTheInjectedClock) {
    PendingOrders orders;
    orders.pending = {1'000, 2'000, 3'000};
    EpochMs now = 1'500;
    OrderExpiry expiry(orders, [&] { return now; });
    EXPECT_EQ(*expiry.ExpireDue(), 1);
    EXPECT_EQ(orders.pending.size(), 2u);
    now = 2'000;  // due at exactly its expiry time
    EXPECT_EQ(*expiry.ExpireDue(), 1);
    EXPECT_EQ(*expiry.ExpireDue(), 0);
    now = 10'000;
    EXPECT_EQ(*expiry.ExpireDue(), 1);
    EXPECT_TRUE(orders.pending.empty());
}

TEST(OrderExpiry, ExpiresEveryDueOrderInChunks) {
    PendingOrders orders;
    orders.pending.assign(450, 100);
    OrderExpiry expiry(
        orders, [] { return EpochMs{100}; }, 200);
    EXPECT_EQ(*expiry.ExpireDue(), 450);
    EXPECT_EQ(orders.calls, 3);  // 200 + 200 + 50: the short chunk ends the run
}

TEST(OrderExpiry, ADatabaseErrorIsReturned) {
    PendingOrders orders;
    orders.pending = {1};
    orders.fail = true;
    OrderExpiry expiry(orders, [] { return EpochMs{100}; });
    auto r = expiry.ExpireDue();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace joopang
