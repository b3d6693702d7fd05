// ShopService with in-memory fakes of its ports and an injected clock: input rules are checked
// before any repository call, orders are placed, paid and canceled on the service's clock with
// the order TTL, another user's order is refused, and a product read counts a view.

#include "app/shop_service.hpp"

#include <gtest/gtest.h>

namespace joopang {
namespace {

Error Unused() { return Error::Internal("not used by this test"); }

class FakeUsers final : public UserRepository {
  public:
    int creates = 0;
    Result<User> Create(const User& user, const std::string&) override {
        ++creates;
        User u = user;
        u.id = 1;
        return u;
    }
    Result<User> Find(std::int64_t id) override {
        if (id != 1) return Error{ErrorCode::kUserNotFound, "no such user"};
        User u;
        u.id = 1;
        return u;
    }
    Result<Money> Charge(std::int64_t, Money amount) override { return amount; }
    Result<std::optional<UserCredentials>> FindCredentials(const std::string&) override {
        return std::optional<UserCredentials>{};
    }
};

class FakeCatalog final : public CatalogRepository {
  public:
    int creates = 0;
    Result<Category> CreateCategory(const std::string&, std::optional<std::int64_t>) override {
        return Unused();
    }
    Result<std::vector<Category>> ListCategories() override { return Unused(); }
    Result<Product> CreateProduct(const NewProduct&) override {
        ++creates;
        return Product{};
    }
    Result<Product> UpdateProduct(std::int64_t, const ProductUpdate&) override { return Unused(); }
    Result<Product> FindProduct(std::int64_t id) override {
        Product p;
        p.id = id;
        p.view_count = 10;  // flushed views
        return p;
    }
    Result<Page<Product>> ListProducts(const ProductQuery&) override { return Unused(); }
    Status AddViews(EpochMs, const std::vector<std::pair<std::int64_t, std::int64_t>>&) override {
        return Unused();
    }
};

/// Records the times the service passes; orders belong to user 1.
class FakeOrders final : public OrderRepository {
  public:
    int places = 0;
    EpochMs placed_at = 0, expires_at = 0, paid_at = 0, canceled_at = 0;
    Result<Order> Place(const PlaceOrderRequest& r, EpochMs now, EpochMs expires) override {
        ++places;
        placed_at = now;
        expires_at = expires;
        Order o;
        o.user_id = r.user_id;
        return o;
    }
    Result<Order> Find(std::int64_t id) override {
        Order o;
        o.id = id;
        o.user_id = 1;
        return o;
    }
    Result<Page<Order>> ListByUser(std::int64_t, std::int64_t, std::int64_t) override {
        return Page<Order>{};
    }
    Result<Payment> Pay(std::int64_t, std::int64_t, EpochMs now) override {
        paid_at = now;
        return Payment{};
    }
    Result<Order> Cancel(std::int64_t, std::int64_t, EpochMs now) override {
        canceled_at = now;
        return Order{};
    }
    Result<int> ExpireDue(EpochMs, int) override { return Unused(); }
};

class ShopServiceTest : public testing::Test {
  protected:
    PlaceOrderRequest Request() {
        PlaceOrderRequest r;
        r.user_id = 1;
        r.recipient_name = "Min Kim";
        r.items = {{7, 2}};
        return r;
    }

    EpochMs now = 1'000'000;
    FakeUsers users;
    FakeCatalog catalog;
    FakeOrders orders;
    ViewCounter views;
    ShopService shop{users, catalog, orders, views, ShopSettings{60'000}, [this] { return now; }};
};

TEST_F(ShopServiceTest, OrdersArePlacedPaidAndCanceledOnTheServicesClock) {
    ASSERT_TRUE(shop.PlaceOrder(Request()));
    EXPECT_EQ(orders.placed_at, 1'000'000);
    EXPECT_EQ(orders.expires_at, 1'060'000) << "placed + --order-ttl";
    now = 1'030'000;
    ASSERT_TRUE(shop.Pay(5, 1));
    EXPECT_EQ(orders.paid_at, 1'030'000);
    now = 1'040'000;
    ASSERT_TRUE(shop.Cancel(5, 1));
    EXPECT_EQ(orders.canceled_at, 1'040'000);
}

TEST_F(ShopServiceTest, BadOrdersAreRefusedBeforeTheDatabase) {
    auto no_items = Request();
    no_items.items.clear();
    EXPECT_EQ(shop.PlaceOrder(no_items).error().field, "items");
    auto twice = Request();
    twice.items = {{7, 1}, {7, 1}};
    EXPECT_EQ(shop.PlaceOrder(twice).error().field, "items[1].productItemId");
    auto huge = Request();
    huge.items = {{7, 1'000'001}};
    EXPECT_EQ(shop.PlaceOrder(huge).error().field, "items[0].quantity");
    auto nobody = Request();
    nobody.recipient_name.clear();
    EXPECT_EQ(shop.PlaceOrder(nobody).error().field, "recipientName");
    EXPECT_EQ(orders.places, 0);
}

TEST_F(ShopServiceTest, BadUsersAndProductsAreRefusedBeforeTheDatabase) {
    NewUser u;
    u.email = "not-an-email";
    u.password = "s3cret!";
    EXPECT_EQ(shop.CreateUser(u).error().field, "email");
    u.email = "kim@example.com";
    u.password = "abc";
    EXPECT_EQ(shop.CreateUser(u).error().field, "password");
    EXPECT_EQ(users.creates, 0);
    EXPECT_EQ(shop.ChargeBalance(1, Money()).error().field, "amount");

    NewProduct p;
    p.name = "Hoodie";
    p.code = "HD-1";
    EXPECT_EQ(shop.CreateProduct(p).error().field, "items");
    EXPECT_EQ(catalog.creates, 0);
}

TEST_F(ShopServiceTest, AnotherUsersOrderIsForbidden) {
    EXPECT_TRUE(shop.GetOrder(5, 1));
    EXPECT_TRUE(shop.GetOrder(5, std::nullopt)) << "the admin reads without a user";
    EXPECT_EQ(shop.GetOrder(5, 2).error().code, ErrorCode::kForbidden);
}

TEST_F(ShopServiceTest, AProductReadCountsAViewAndShowsIt) {
    EXPECT_EQ(shop.ViewProduct(3)->view_count, 11);
    EXPECT_EQ(shop.ViewProduct(3)->view_count, 12);
    EXPECT_EQ(views.Pending(3), 2);
    EXPECT_EQ(views.Pending(4), 0);
}

}  // namespace
}  // namespace joopang
