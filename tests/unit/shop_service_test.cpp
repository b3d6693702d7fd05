// ShopService with in-memory fakes of its ports and an injected clock: input rules are checked
// before any repository call, orders are placed, paid and canceled on the service's clock with
// the order TTL, another user's order is refused, committed changes are reported to the catalog's
// caches; and the catalog reader answers repeated reads from its cache, counting every view.

#include "app/shop_service.hpp"

#include <gtest/gtest.h>

#include "app/catalog_reader.hpp"

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
    int finds = 0;
    std::int64_t missing = 0;  // FindProduct answers PRODUCT_NOT_FOUND for this id
    Result<Product> FindProduct(std::int64_t id) override {
        ++finds;
        if (id == missing) return Error{ErrorCode::kProductNotFound, "no such product"};
        Product p;
        p.id = id;
        p.view_count = 10;  // flushed views
        return p;
    }
    std::int64_t page_total = -1;  // ListProducts answers an empty page of this total (-1: unused)
    Result<Page<Product>> ListProducts(const ProductQuery&) override {
        if (page_total < 0) return Unused();
        Page<Product> page;
        page.total = page_total;
        return page;
    }
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
        for (const auto& line : r.items) o.lines.push_back(Line(line.product_item_id));
        return o;
    }
    /// A line of item `item`, of product item × 10.
    static OrderLine Line(std::int64_t item) {
        OrderLine l;
        l.product_item_id = item;
        l.product_id = item * 10;
        return l;
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
        Order o;
        o.lines.push_back(Line(7));
        return o;
    }
    Result<std::vector<Order>> ExpireDue(EpochMs, int) override { return Unused(); }
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
    ShopService shop{users, catalog, orders, ShopSettings{60'000}, [this] { return now; }};
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

/// Records what the use cases report changed.
class RecordingListener final : public CatalogListener {
  public:
    std::vector<std::pair<CatalogChange, std::vector<std::int64_t>>> changes;
    void Changed(CatalogChange kind, const std::vector<std::int64_t>& ids) override {
        changes.emplace_back(kind, ids);
    }
};

TEST_F(ShopServiceTest, CommittedChangesToProductsAndStockAreReported) {
    RecordingListener listener;
    shop.SetCatalogListener(&listener);
    ASSERT_TRUE(shop.PlaceOrder(Request()));
    ASSERT_TRUE(shop.Cancel(5, 1));
    auto bad = Request();
    bad.items.clear();
    ASSERT_FALSE(shop.PlaceOrder(bad));  // refused: nothing changed, nothing reported
    ASSERT_EQ(listener.changes.size(), 2u);
    const std::vector<std::int64_t> product{70};  // the product of item 7
    EXPECT_EQ(listener.changes[0], std::pair(CatalogChange::kStock, product));
    EXPECT_EQ(listener.changes[1], std::pair(CatalogChange::kStock, product));
}

class CatalogReaderTest : public ShopServiceTest {
  protected:
    CatalogReader reader{shop,
                         catalog,
                         views,
                         CatalogReader::Settings{.capacity = 100, .max_age_ms = 1000},
                         [this](CatalogReader::Cache, bool hit) { ++(hit ? hits : misses); },
                         [this] { return now; }};
    int hits = 0, misses = 0;
};

TEST_F(CatalogReaderTest, AProductReadCountsAViewAndShowsItFromTheCacheToo) {
    EXPECT_FALSE(reader.CachedProduct(3));
    EXPECT_EQ(reader.LoadProduct(3)->view_count, 11);
    auto hit = reader.CachedProduct(3);
    ASSERT_TRUE(hit && *hit);
    EXPECT_EQ((*hit)->view_count, 12);
    EXPECT_EQ(views.Pending(3), 2);
    EXPECT_EQ(views.Pending(4), 0);
    EXPECT_EQ(catalog.finds, 1) << "the second read was the cache's";
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(misses, 1);
}

TEST_F(CatalogReaderTest, AChangedOrAgedProductIsReadAgainFromTheDatabase) {
    reader.LoadProduct(3);
    reader.LoadProduct(4);
    reader.Changed(CatalogChange::kProducts, {3});
    EXPECT_FALSE(reader.CachedProduct(3));
    EXPECT_TRUE(reader.CachedProduct(4));
    now += 1000;  // max age
    EXPECT_FALSE(reader.CachedProduct(4));
    reader.LoadProduct(4);
    reader.Changed(CatalogChange::kProducts, {});  // everything
    EXPECT_FALSE(reader.CachedProduct(4));
}

TEST_F(CatalogReaderTest, AStockChangeMadeHereShowsAtOnceWithoutDroppingTheLists) {
    reader.LoadProduct(3);
    ProductQuery first_page;
    catalog.page_total = 1;
    ASSERT_TRUE(reader.LoadList(first_page));
    reader.ChangedHere(CatalogChange::kStock, {3});
    EXPECT_FALSE(reader.CachedProduct(3));  // an order here, then its product read: fresh
    EXPECT_TRUE(reader.CachedList(first_page));
    reader.ChangedHere(CatalogChange::kProducts, {3});
    EXPECT_FALSE(reader.CachedList(first_page));
}

TEST_F(CatalogReaderTest, AStockChangeElsewhereShowsWithinItsShortDelayNotAtOnce) {
    reader.LoadProduct(3);
    reader.LoadProduct(4);
    for (int i = 0; i < 50; ++i) reader.Changed(CatalogChange::kStock, {3});  // a busy product
    EXPECT_TRUE(reader.CachedProduct(3));  // not emptied by each order
    now += 99;
    EXPECT_TRUE(reader.CachedProduct(3));
    now += 1;  // stock_change_ms (100) after the change
    EXPECT_FALSE(reader.CachedProduct(3));
    EXPECT_TRUE(reader.CachedProduct(4));  // another product keeps its full age
    reader.LoadProduct(3);
    reader.Changed(CatalogChange::kStock, {});  // an expiry: all products
    now += 100;
    EXPECT_FALSE(reader.CachedProduct(3));
    EXPECT_FALSE(reader.CachedProduct(4));
}

TEST_F(CatalogReaderTest, AnUnknownProductIsAnsweredFromTheCacheToo) {
    catalog.missing = 9;
    EXPECT_EQ(reader.LoadProduct(9).error().code, ErrorCode::kProductNotFound);
    auto hit = reader.CachedProduct(9);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->error().code, ErrorCode::kProductNotFound);
    EXPECT_EQ(views.Pending(9), 0);
    reader.Changed(CatalogChange::kProducts, {9});  // created now
    EXPECT_FALSE(reader.CachedProduct(9));
}

}  // namespace
}  // namespace joopang
