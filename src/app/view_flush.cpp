#include "app/view_flush.hpp"

#include <spdlog/spdlog.h>

namespace joopang {

ViewFlush::ViewFlush(ViewCounter& views,
                     CatalogRepository& catalog,
                     RankingStore& rankings,
                     BlockingPool& pool,
                     std::string instance,
                     std::function<EpochMs()> now)
    : views_(views),
      catalog_(catalog),
      rankings_(rankings),
      pool_(pool),
      // A restarted process may reuse a pid: its start time keeps its keys apart.
      batch_prefix_(std::move(instance) + ":" + std::to_string(now()) + ":"),
      now_(std::move(now)) {}

boost::asio::awaitable<Status> ViewFlush::Flush() {
    auto counts = views_.Drain();
    if (!counts.empty()) {
        const EpochMs at = now_();
        std::vector<std::pair<std::int64_t, std::int64_t>> per_product;
        per_product.reserve(counts.size());
        for (const auto& c : counts) per_product.emplace_back(c.product_id, c.views);
        auto st = co_await pool_.Run([&] { return catalog_.AddViews(at, per_product); });
        if (!st) {
            views_.Restore(counts);
            co_return st;
        }
        RankingEvent batch;
        batch.view_batch = batch_prefix_ + std::to_string(next_batch_++);
        batch.at = at;
        for (const auto& c : counts)
            batch.lines.push_back(
                {.product_id = c.product_id, .category_id = c.category_id, .views = c.views});
        waiting_.push_back(std::move(batch));
        if (waiting_.size() > kMaxWaitingBatches) {
            spdlog::warn("rankings store unavailable: dropping a batch of views from {}",
                         FormatRfc3339(waiting_.front().at));
            waiting_.pop_front();
        }
    }
    while (!waiting_.empty()) {
        std::vector<RankingEvent> one{waiting_.front()};
        auto st = co_await rankings_.Apply(one, now_());
        if (!st && st.error().code == ErrorCode::kUnavailable) co_return st;  // retried later
        // Applied — or refused by the store (not an outage), which retrying would not change:
        // it must not hold up the batches behind it. The database has its views either way.
        if (!st)
            spdlog::error("rankings store refused a batch of views from {}: {}",
                          FormatRfc3339(waiting_.front().at), st.error().message);
        waiting_.pop_front();
    }
    co_return Status{};
}

}  // namespace joopang
