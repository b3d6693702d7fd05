#pragma once
/// Product views counted in memory and flushed to the database in batches by a periodic job, so
/// that a product read does not become a database write. A crash loses at most one flush
/// interval of view counts (views are a popularity signal, not money).

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace joopang {

class ViewCounter {
  public:
    void Record(std::int64_t product_id) {
        std::lock_guard lock(mu_);
        ++pending_[product_id];
    }
    /// Takes every pending count (and resets them).
    std::vector<std::pair<std::int64_t, std::int64_t>> Drain() {
        std::unordered_map<std::int64_t, std::int64_t> taken;
        {
            std::lock_guard lock(mu_);
            taken.swap(pending_);
        }
        return {taken.begin(), taken.end()};
    }
    /// Puts counts back after a failed flush.
    void Restore(const std::vector<std::pair<std::int64_t, std::int64_t>>& counts) {
        std::lock_guard lock(mu_);
        for (auto [id, n] : counts) pending_[id] += n;
    }
    /// Views recorded but not yet flushed, for reads that want to show them.
    std::int64_t Pending(std::int64_t product_id) {
        std::lock_guard lock(mu_);
        auto it = pending_.find(product_id);
        return it == pending_.end() ? 0 : it->second;
    }

  private:
    std::mutex mu_;
    std::unordered_map<std::int64_t, std::int64_t> pending_;
};

}  // namespace joopang
