#include "app/catalog_changes.hpp"

#include <algorithm>

namespace joopang {

/// Most products one published entry lists; more are published as a change of everything.
constexpr std::size_t kMaxIdsPerEntry = 1000;
/// Most entries one Sync applies (the job runs again soon after).
constexpr int kReadLimit = 1000;

void CatalogChanges::Pending::Add(const std::vector<std::int64_t>& product_ids) {
    if (product_ids.empty()) all = true;
    if (all) return;
    ids.insert(ids.end(), product_ids.begin(), product_ids.end());
    if (ids.size() > kMaxIdsPerEntry) all = true;
}

void CatalogChanges::Changed(CatalogChange kind, const std::vector<std::int64_t>& product_ids) {
    reader_.ChangedHere(kind, product_ids);
    std::lock_guard lock(mu_);
    (kind == CatalogChange::kStock ? stock_ : products_).Add(product_ids);
}

boost::asio::awaitable<Status> CatalogChanges::Publish(CatalogChange kind, Pending pending) {
    if (!pending.all && pending.ids.empty()) co_return Status{};
    auto& ids = pending.ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (pending.all) ids.clear();
    const CatalogChangeEntry change{kind, ids};  // named: GCC 12 mis-handles braces in co_await
    auto published = co_await log_.Publish(change);
    if (!published) {
        // Kept for the next run (this instance's cache has applied them already).
        std::lock_guard lock(mu_);
        (kind == CatalogChange::kStock ? stock_ : products_).Add(ids);
    }
    co_return published;
}

boost::asio::awaitable<Status> CatalogChanges::Sync() {
    Pending products, stock;
    {
        std::lock_guard lock(mu_);
        std::swap(products, products_);
        std::swap(stock, stock_);
    }
    auto first = co_await Publish(CatalogChange::kProducts, std::move(products));
    auto second = co_await Publish(CatalogChange::kStock, std::move(stock));
    // The others' changes are applied even when publishing this instance's failed.
    auto entries = co_await log_.ReadAfter(cursor_, kReadLimit);
    if (entries)
        for (const auto& e : *entries) reader_.Changed(e.kind, e.product_ids);
    if (!first) co_return first;
    if (!second) co_return second;
    if (!entries) co_return entries.error();
    co_return Status{};
}

}  // namespace joopang
