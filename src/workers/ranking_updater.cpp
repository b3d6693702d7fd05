#include "workers/ranking_updater.hpp"

#include "observability/metrics.hpp"
#include "workers/stream_consumer_impl.hpp"

namespace joopang::workers {

template class StreamConsumer<RankingEvent, RankingApplied>;

boost::asio::awaitable<Result<std::vector<RankingApplied>>> RankingUpdateHandler::Handle(
    std::int64_t, const std::vector<RankingEvent>& events) {
    auto st = co_await store_.Apply(events, now_());
    if (!st) co_return st.error();
    co_return std::vector<RankingApplied>(events.size());
}

void RankingUpdateHandler::Completed(std::int64_t, std::size_t events) {
    obs::Registry::Global()
        .GetCounter("joopang_ranking_events_total", "Order events applied to the rankings")
        .Add(events);
}

RankingUpdater::RankingUpdater(boost::asio::any_io_executor executor,
                               StreamGroup<RankingEvent, RankingApplied>& events,
                               RankingStore& store,
                               StreamConsumerSettings settings)
    : handler_(store),
      consumer_(std::make_unique<StreamConsumer<RankingEvent, RankingApplied>>(
          std::move(executor), events, handler_, std::move(settings))) {}

RankingUpdater::~RankingUpdater() { Stop(); }

void RankingUpdater::Start() { consumer_->Start(); }

void RankingUpdater::Stop() { consumer_->Stop(); }

}  // namespace joopang::workers
