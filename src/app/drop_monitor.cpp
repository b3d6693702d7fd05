#include "app/drop_monitor.hpp"

#include <utility>

namespace joopang {

boost::asio::awaitable<Status> DropMonitor::Sample() {
    auto live = co_await pool_.Run([&] { return repo_.ListLiveTemplates(); });
    if (!live) co_return live.error();
    DropsSnapshot next;
    next.sampled_at = NowMs();
    // A drop whose figures cannot be read is left out of this sample (and the run reported
    // failed), so one bad drop does not freeze the others'.
    Status failed;
    for (auto& t : *live) {
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
