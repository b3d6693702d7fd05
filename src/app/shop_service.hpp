#pragma once
/// The shop use cases (users, catalog, orders, payments). Each call checks the business rules of
/// its input, then runs one repository operation. Blocking: call from a blocking thread pool.

#include <cstdint>
#include <functional>
#include <memory>

#include "app/catalog_listener.hpp"
#include "app/ports/catalog_repository.hpp"
#include "app/ports/order_repository.hpp"
#include "app/ports/user_repository.hpp"
#include "app/shop_types.hpp"
#include "common/clock.hpp"

namespace joopang {

struct ShopSettings {
    /// How long an unpaid order holds its stock.
    EpochMs order_ttl_ms = 15 * 60 * 1000;
};

class ShopService {
  public:
    ShopService(UserRepository& users,
                CatalogRepository& catalog,
                OrderRepository& orders,
                ShopSettings settings,
                std::function<EpochMs()> now = NowMs)
        : users_(users),
          catalog_(catalog),
          orders_(orders),
          settings_(settings),
          now_(std::move(now)) {}

    Result<User> CreateUser(const NewUser& input);
    Result<User> GetUser(std::int64_t id);
    Result<Money> ChargeBalance(std::int64_t user_id, Money amount);

    Result<Category> CreateCategory(const std::string& name, std::optional<std::int64_t> parent);
    Result<std::vector<Category>> ListCategories();
    Result<Product> CreateProduct(const NewProduct& input);
    Result<Product> UpdateProduct(std::int64_t id, const ProductUpdate& update);
    Result<Page<Product>> ListProducts(const ProductQuery& query);
    Result<StockCheck> CheckStock(std::int64_t product_id, std::int64_t quantity);

    Result<Order> PlaceOrder(const PlaceOrderRequest& request);
    /// The rules for an order's recipient and memo (shared with the cart's checkout).
    static Status CheckOrderDetails(const std::string& recipient_name, const std::string& memo);
    /// FORBIDDEN when `user_id` is given and is not the owner.
    Result<Order> GetOrder(std::int64_t order_id, std::optional<std::int64_t> user_id);
    Result<Page<Order>> ListOrders(std::int64_t user_id, std::int64_t page, std::int64_t size);
    Result<Payment> Pay(std::int64_t order_id, std::int64_t user_id);
    Result<Order> Cancel(std::int64_t order_id, std::int64_t user_id);

    /// Told of every committed change to products or their stock (catalog caches); optional.
    void SetCatalogListener(CatalogListener* listener) { listener_ = listener; }

  private:
    void Notify(CatalogChange kind, const std::vector<std::int64_t>& product_ids);

    UserRepository& users_;
    CatalogRepository& catalog_;
    OrderRepository& orders_;
    ShopSettings settings_;
    std::function<EpochMs()> now_;  // the clock orders are placed, paid and canceled by
    CatalogListener* listener_ = nullptr;
};

}  // namespace joopang
