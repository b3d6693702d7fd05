// The order-expiry use case with an in-memory order store and an injected clock.

#include "app/order_expiry.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace joopang {
namespace {

/// Only ExpireDue is real: pending orders are their expiry times, each an order of one line of
/// product (its expiry time ÷ 1,000).
class PendingOrders final : public OrderRepository {
  public:
    std::vector<EpochMs> pending;  // expiry times of PENDING orders
    int calls = 0;
    bool fail = false;

    Result<std::vector<Order>> ExpireDue(EpochMs now, int limit) override {
        ++calls;
        if (fail) return Error::Unavailable("database down");
        std::vector<Order> expired;
        for (auto it = pending.begin();
             it != pending.end() && static_cast<int>(expired.size()) < limit;) {
            if (*it <= now) {
                Order o;
                o.lines.push_back(OrderLine{.product_id = *it / 1000});
                expired.push_back(o);
                it = pending.erase(it);
            } else {
                ++it;
            }
        }
        return expired;
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

/// Records what the catalog is told.
struct CatalogChanges final : CatalogListener {
    std::vector<std::vector<std::int64_t>> told;
    void Changed(CatalogChange kind, const std::vector<std::int64_t>& ids) override {
        EXPECT_EQ(kind, CatalogChange::kStock);
        told.push_back(ids);
    }
};

TEST(OrderExpiry, TellsTheCatalogWhichProductsGotTheirStockBack) {
    PendingOrders orders;
    orders.pending = {3'000, 1'000, 3'500, 9'000};  // products 3, 1, 3, 9
    OrderExpiry expiry(orders, [] { return EpochMs{5'000}; });
    CatalogChanges catalog;
    expiry.SetCatalogListener(&catalog);
    EXPECT_EQ(*expiry.ExpireDue(), 3);
    ASSERT_EQ(catalog.told.size(), 1u);
    EXPECT_EQ(catalog.told[0], (std::vector<std::int64_t>{1, 3}));  // each once, never "all"
    EXPECT_EQ(*expiry.ExpireDue(), 0);
    EXPECT_EQ(catalog.told.size(), 1u) << "nothing expired, nothing told";
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
