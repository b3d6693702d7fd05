#include "app/ranking_publisher.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace joopang {

RankingPublisher::RankingPublisher(RankingStore& store,
                                   RankingHistory& history,
                                   BlockingPool& pool,
                                   Settings settings)
    : store_(store), history_(history), pool_(pool), settings_(settings) {}

boost::asio::awaitable<Result<RefreshReport>> RankingPublisher::Refresh(EpochMs now) {
    RefreshReport report;
    if (auto st = co_await RetirePaced(now, report); !st) co_return st.error();

    auto changed = co_await store_.TakeChanged(settings_.changed_per_run);
    if (!changed) co_return changed.error();
    pending_.insert(pending_.end(), changed->begin(), changed->end());
    if (last_full_ == 0 || now - last_full_ >= settings_.republish_ms) {
        auto categories = co_await store_.Categories();
        if (!categories) co_return categories.error();
        categories->push_back(0);
        for (const auto& w : RankingWindows())
            for (auto c : *categories) pending_.push_back({std::string(w.name), c});
        last_full_ = now;
    }
    std::sort(pending_.begin(), pending_.end(), [](const auto& a, const auto& b) {
        return std::tie(a.window, a.category_id) < std::tie(b.window, b.category_id);
    });
    pending_.erase(std::unique(pending_.begin(), pending_.end()), pending_.end());

    // Published one by one, each leaving the list once done: a failure leaves the rest for the
    // next run.
    while (!pending_.empty()) {
        const RankingScope scope = pending_.back();
        auto window = FindRankingWindow(scope.window);
        if (window) {
            auto set = co_await store_.Collect(*window, scope.category_id, settings_.top, now);
            if (!set) co_return set.error();
            if (auto st = co_await AttachNames(*set, now); !st) co_return st.error();
            auto st = co_await store_.Publish(*window, scope.category_id, *set, settings_.ttl_ms);
            if (!st) co_return st.error();
            ++report.published;
        }
        pending_.pop_back();
    }
    co_return report;
}

boost::asio::awaitable<Status> RankingPublisher::RetirePaced(EpochMs now, RefreshReport& report) {
    const auto until = std::chrono::steady_clock::now() + settings_.retire_budget;
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
    while (true) {
        auto more = co_await store_.Retire(now, 1);
        if (!more) co_return more.error();
        ++report.retire_steps;
        report.retire_done = !*more;
        if (!*more || std::chrono::steady_clock::now() >= until) co_return Status{};
        pause.expires_after(settings_.retire_pause);
        co_await pause.async_wait(boost::asio::use_awaitable);
    }
}

boost::asio::awaitable<Status> RankingPublisher::AttachNames(RankingSet& set, EpochMs now) {
    std::vector<std::int64_t> missing;
    for (const auto& ranking : set)
        for (const auto& t : ranking.items) {
            auto it = names_.find(t.product_id);
            if (it == names_.end() || now - it->second.fetched_at >= settings_.name_ttl_ms)
                missing.push_back(t.product_id);
        }
    if (!missing.empty()) {
        std::sort(missing.begin(), missing.end());
        missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
        auto found = co_await pool_.Run([&] { return history_.Names(missing); });
        if (!found) co_return found.error();
        for (auto& [id, name] : *found) names_[id] = {std::move(name), now};
    }
    // Names no ranking has shown for a while are forgotten (the map stays as big as the tops).
    if (names_.size() > 64 * settings_.top)
        std::erase_if(names_, [&](const auto& kv) {
            return now - kv.second.fetched_at >= settings_.name_ttl_ms;
        });
    for (auto& ranking : set)
        for (auto& t : ranking.items) {
            auto it = names_.find(t.product_id);
            if (it != names_.end()) t.name = it->second.text;
        }
    co_return Status{};
}

}  // namespace joopang
