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
    auto rebasing = co_await Paced([&] { return store_.Rebase(now, 1); }, settings_.rebase_budget,
                                   report.rebase_steps);
    if (!rebasing) co_return rebasing.error();
    // Until every score is on the new landmark, the sums are not ready to be read; the published
    // rankings stay until their TTL, then readers fall back to the database.
    report.rebasing = *rebasing;
    if (report.rebasing) co_return report;
    auto retiring = co_await Paced([&] { return store_.Retire(now, 1); }, settings_.retire_budget,
                                   report.retire_steps);
    if (!retiring) co_return retiring.error();
    report.retire_done = !*retiring;

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

boost::asio::awaitable<Result<bool>> RankingPublisher::Paced(
    const std::function<boost::asio::awaitable<Result<bool>>()>& step,
    std::chrono::milliseconds budget,
    int& steps) {
    const auto until = std::chrono::steady_clock::now() + budget;
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
    while (true) {
        auto more = co_await step();
        if (!more) co_return more.error();
        ++steps;
        if (!*more || std::chrono::steady_clock::now() >= until) co_return *more;
        pause.expires_after(settings_.step_pause);
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
