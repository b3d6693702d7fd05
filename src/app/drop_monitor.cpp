#include "app/drop_monitor.hpp"

#include <set>
#include <utility>

namespace joopang {

bool DropMonitor::Shown(const CouponTemplate& t,
                        EpochMs now,
                        const std::map<std::int64_t, std::int64_t>& reserved_before) {
    // A drop whose issue window is over has finished once the last sample saw every win it had
    // persisted (a persister catching up after an outage keeps it shown).
    bool window_done = false;
    if (t.end_at && *t.end_at <= now) {
        auto seen = reserved_before.find(t.id);
        window_done = seen != reserved_before.end() && seen->second <= t.issued;
    }
    const bool finished = t.issued >= t.total_quantity || window_done;
    if (!finished) {
        finished_since_.erase(t.id);  // e.g. a repair gave it winners back to persist
        return true;
    }
    const EpochMs since = finished_since_.try_emplace(t.id, now).first->second;
    return now - since < kFinishedShown;
}

boost::asio::awaitable<Status> DropMonitor::Sample() {
    auto live = co_await pool_.Run([&] { return repo_.ListLiveTemplates(); });
    if (!live) co_return live.error();
    DropsSnapshot next;
    next.sampled_at = now_();
    // Forget templates that left the live list (ENDED).
    std::set<std::int64_t> listed;
    for (const auto& t : *live) listed.insert(t.id);
    std::erase_if(finished_since_, [&](const auto& e) { return !listed.count(e.first); });
    // What the last sample saw reserved, by template (read once, under the lock).
    std::map<std::int64_t, std::int64_t> reserved_before;
    {
        std::lock_guard lock(mu_);
        for (const auto& d : latest_.drops) reserved_before[d.tmpl.id] = d.counters.reserved;
    }
    // A drop whose figures cannot be read is left out of this sample (and the run reported
    // failed), so one bad drop does not freeze the others'.
    Status failed;
    for (auto& t : *live) {
        if (!Shown(t, next.sampled_at, reserved_before)) continue;
        DropSample d;
        auto counters = co_await gate_.Counters(t.id);
        if (!counters) {
            failed = counters.error();
            continue;
        }
        auto keys = co_await gate_.Footprint(t.id);
        if (!keys) {
            failed = keys.error();
            continue;
        }
        d.tmpl = std::move(t);
        d.counters = *counters;
        d.keys = std::move(*keys);
        for (const auto& k : d.keys) d.key_bytes += k.bytes;
        if (d.counters.reserved > 0)
            d.bytes_per_winner =
                static_cast<double>(d.key_bytes) / static_cast<double>(d.counters.reserved);
        next.drops.push_back(std::move(d));
    }
    {
        std::lock_guard lock(mu_);
        latest_ = std::move(next);
    }
    co_return failed;
}

DropsSnapshot DropMonitor::Latest() const {
    std::lock_guard lock(mu_);
    return latest_;
}

}  // namespace joopang
