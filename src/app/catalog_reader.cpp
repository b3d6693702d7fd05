#include "app/catalog_reader.hpp"

namespace joopang {
namespace {

std::string ProductKey(std::int64_t id) { return std::to_string(id); }

std::string ListKey(const ProductQuery& q) {
    std::string key = q.category_id ? std::to_string(*q.category_id) : std::string("-");
    key += '/';
    key += std::to_string(static_cast<int>(q.sort));
    key += '/';
    key += std::to_string(q.page);
    key += '/';
    key += std::to_string(q.size);
    return key;
}

}  // namespace

CatalogReader::CatalogReader(ShopService& shop,
                             CatalogRepository& catalog,
                             ViewCounter& views,
                             Settings settings,
                             OnRequest on_request,
                             std::function<EpochMs()> now)
    : shop_(shop),
      catalog_(catalog),
      views_(views),
      settings_(settings),
      on_request_(std::move(on_request)),
      now_(std::move(now)),
      products_(settings.capacity, settings.max_age_ms),
      lists_(settings.list_capacity, settings.max_age_ms) {}

Product CatalogReader::Viewed(Product product) {
    views_.Record(product.id, product.category_id.value_or(0));
    // Show the views not yet flushed, so a reader sees its own view counted.
    product.view_count += views_.Pending(product.id);
    return product;
}

std::optional<Result<Product>> CatalogReader::CachedProduct(std::int64_t id) {
    auto hit = products_.Get(ProductKey(id), now_());
    if (on_request_) on_request_(Cache::kProduct, hit.has_value());
    if (!hit) return std::nullopt;
    if (!*hit) return Result<Product>(hit->error());
    return Result<Product>(Viewed(std::move(**hit)));
}

Result<Product> CatalogReader::LoadProduct(std::int64_t id) {
    const auto generation = products_.Generation();
    const EpochMs started = now_();  // its age counts from before the read
    auto product = catalog_.FindProduct(id);
    // Kept: a product, or its absence; not a failure to read it.
    if (product || product.error().code == ErrorCode::kProductNotFound)
        products_.Put(ProductKey(id), product, generation, started);
    if (!product) return product;
    return Viewed(std::move(*product));
}

std::optional<Result<Page<Product>>> CatalogReader::CachedList(const ProductQuery& query) {
    if (!Cacheable(query)) return std::nullopt;
    auto hit = lists_.Get(ListKey(query), now_());
    if (on_request_) on_request_(Cache::kList, hit.has_value());
    if (!hit) return std::nullopt;
    return Result<Page<Product>>(std::move(*hit));
}

Result<Page<Product>> CatalogReader::LoadList(const ProductQuery& query) {
    const auto generation = lists_.Generation();
    const EpochMs started = now_();
    auto page = shop_.ListProducts(query);
    if (page && Cacheable(query)) lists_.Put(ListKey(query), *page, generation, started);
    return page;
}

void CatalogReader::Changed(CatalogChange kind, const std::vector<std::int64_t>& product_ids) {
    if (kind == CatalogChange::kStock) {
        const EpochMs now = now_();
        if (product_ids.empty()) products_.ShortenAll(now, settings_.stock_change_ms);
        for (auto id : product_ids)
            products_.Shorten(ProductKey(id), now, settings_.stock_change_ms);
        return;
    }
    ChangedHere(kind, product_ids);
}

void CatalogReader::ChangedHere(CatalogChange kind, const std::vector<std::int64_t>& product_ids) {
    if (product_ids.empty()) products_.InvalidateAll();
    for (auto id : product_ids) products_.Invalidate(ProductKey(id));
    if (kind == CatalogChange::kProducts) lists_.InvalidateAll();
}

}  // namespace joopang
