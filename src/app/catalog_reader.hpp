#pragma once
/// Reading the catalog (SPEC §3) without a database query on the hot path: product reads and the
/// first pages of the product list are answered from a bounded in-process cache (BoundedCache),
/// each entry at most `max_age` old (1 s: stock shown lags by at most that), and dropped when
/// this or another instance changes the product (CatalogChanges; see Changed for stock changes).
/// A miss is loaded from the database on a blocking pool. Every read still counts a view.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/bounded_cache.hpp"
#include "app/catalog_listener.hpp"
#include "app/ports/catalog_repository.hpp"
#include "app/shop_service.hpp"
#include "app/view_counter.hpp"

namespace joopang {

class CatalogReader {
  public:
    struct Settings {
        std::size_t capacity = 10'000;    // products (and "not found") kept
        std::size_t list_capacity = 256;  // list pages kept (up to 100 products each)
        EpochMs max_age_ms = 1000;
        std::int64_t cached_pages = 3;  // list pages 0..cached_pages-1 are cached
        EpochMs stock_change_ms = 100;  // a stock change shows within this (see Changed)
    };
    enum class Cache { kProduct, kList };
    /// Called for every read a cache could answer, with whether it did.
    using OnRequest = std::function<void(Cache cache, bool hit)>;

    CatalogReader(ShopService& shop,
                  CatalogRepository& catalog,
                  ViewCounter& views,
                  Settings settings,
                  OnRequest on_request = {},
                  std::function<EpochMs()> now = NowMs);

    /// The product from the cache, its view counted; nothing on a miss (then LoadProduct).
    std::optional<Result<Product>> CachedProduct(std::int64_t id);
    /// Blocking: the product from the database (kept in the cache), its view counted.
    Result<Product> LoadProduct(std::int64_t id);

    /// The page from the cache; nothing on a miss or a page that is not cached (then LoadList).
    std::optional<Result<Page<Product>>> CachedList(const ProductQuery& query);
    /// Blocking: the page from the database (kept in the cache if it is one of the first).
    Result<Page<Product>> LoadList(const ProductQuery& query);

    /// A change another instance made. kProducts: drops what the cache holds of these products,
    /// and every list page (their order or contents may have changed). kStock: their entries are
    /// served at most stock_change_ms longer, so that a hot product's page, ordered from many
    /// times a second elsewhere, is reloaded here at most that often; list pages show stock
    /// within their max age. Empty ids: all products.
    void Changed(CatalogChange kind, const std::vector<std::int64_t>& product_ids);
    /// A change this instance made: its products are dropped at once whatever the kind, so that
    /// whoever made it reads it back (an order, then the product's stock); list pages as above.
    void ChangedHere(CatalogChange kind, const std::vector<std::int64_t>& product_ids);

    std::size_t size() const { return products_.size() + lists_.size(); }
    std::uint64_t evictions() const { return products_.evictions() + lists_.evictions(); }

  private:
    Product Viewed(Product product);
    bool Cacheable(const ProductQuery& query) const { return query.page < settings_.cached_pages; }

    ShopService& shop_;
    CatalogRepository& catalog_;
    ViewCounter& views_;
    Settings settings_;
    OnRequest on_request_;
    std::function<EpochMs()> now_;
    BoundedCache<Result<Product>> products_;  // PRODUCT_NOT_FOUND is kept too
    BoundedCache<Page<Product>> lists_;
};

}  // namespace joopang
