#pragma once
/// Product views counted in memory and flushed in batches by a periodic job (ViewFlush), so that
/// a product read does not become a database or Redis write. A crash loses at most one flush
/// interval of view counts (views are a popularity signal, not money).

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace joopang {

struct ViewCount {
    std::int64_t product_id = 0;
    std::int64_t category_id = 0;  // 0: none (the rankings count it per category too)
    std::int64_t views = 0;
};

class ViewCounter {
  public:
    void Record(std::int64_t product_id, std::int64_t category_id) {
        std::lock_guard lock(mu_);
        auto& c = pending_[product_id];
        c.category_id = category_id;
        ++c.views;
    }
    /// Takes every pending count (and resets them).
    std::vector<ViewCount> Drain() {
        std::unordered_map<std::int64_t, Tally> taken;
        {
            std::lock_guard lock(mu_);
            taken.swap(pending_);
        }
        std::vector<ViewCount> out;
        out.reserve(taken.size());
        for (const auto& [id, c] : taken) out.push_back({id, c.category_id, c.views});
        return out;
    }
    /// Puts counts back after a failed flush.
    void Restore(const std::vector<ViewCount>& counts) {
        std::lock_guard lock(mu_);
        for (const auto& c : counts) {
            auto& p = pending_[c.product_id];
            p.category_id = c.category_id;
            p.views += c.views;
        }
    }
    /// Views recorded but not yet flushed, for reads that want to show them.
    std::int64_t Pending(std::int64_t product_id) {
        std::lock_guard lock(mu_);
        auto it = pending_.find(product_id);
        return it == pending_.end() ? 0 : it->second.views;
    }

  private:
    struct Tally {
        std::int64_t category_id = 0;
        std::int64_t views = 0;
    };
    std::mutex mu_;
    std::unordered_map<std::int64_t, Tally> pending_;
};

}  // namespace joopang
