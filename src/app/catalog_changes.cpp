#include "app/catalog_changes.hpp"

#include <algorithm>

namespace joopang {

/// Most products one published entry lists; more are published as a change of everything.
constexpr std::size_t kMaxIdsPerEntry = 1000;
/// Most entries one Sync applies (the job runs again soon after).
constexpr int kReadLimit = 1000;

void CatalogChanges::Changed(const std::vector<std::int64_t>& product_ids) {
    reader_.Changed(product_ids);
    std::lock_guard lock(mu_);
    if (product_ids.empty()) pending_all_ = true;
    if (pending_all_) return;
    pending_.insert(pending_.end(), product_ids.begin(), product_ids.end());
    if (pending_.size() > kMaxIdsPerEntry) pending_all_ = true;
}

boost::asio::awaitable<Status> CatalogChanges::Sync() {
    std::vector<std::int64_t> ids;
    bool all = false;
    {
        std::lock_guard lock(mu_);
        ids.swap(pending_);
        all = pending_all_;
        pending_all_ = false;
    }
    if (all || !ids.empty()) {
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        if (all) ids.clear();
        auto published = co_await log_.Publish(ids);
        if (!published) {
            Changed(ids);  // kept for the next run (the cache here has dropped them already)
            co_return published.error();
        }
    }
    auto entries = co_await log_.ReadAfter(cursor_, kReadLimit);
    if (!entries) co_return entries.error();
    for (const auto& changed : *entries) reader_.Changed(changed);
    co_return Status{};
}

}  // namespace joopang
