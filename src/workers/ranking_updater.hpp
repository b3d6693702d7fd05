#pragma once
/// The ranking updater: drains the order-event stream into the rankings' counts, exactly once in
/// effect. It is the stream-consumer engine (stream_consumer.hpp) with RankingUpdateHandler: a
/// batch of events is one script call on the ranking store, which applies each outbox id once.

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "app/ports/ranking_store.hpp"
#include "app/ports/stream_group.hpp"
#include "workers/stream_consumer.hpp"

namespace joopang::workers {

class RankingUpdateHandler final : public StreamHandler<RankingEvent, RankingApplied> {
  public:
    explicit RankingUpdateHandler(RankingStore& store, std::function<EpochMs()> now = NowMs)
        : store_(store), now_(std::move(now)) {}

    boost::asio::awaitable<Status> Prepare(std::int64_t) override { co_return Status{}; }
    boost::asio::awaitable<Result<std::vector<RankingApplied>>> Handle(
        std::int64_t key, const std::vector<RankingEvent>& events) override;
    /// Counts the events applied and acknowledged (joopang_ranking_events_total).
    void Completed(std::int64_t key, std::size_t events) override;

  private:
    RankingStore& store_;
    std::function<EpochMs()> now_;
};

class RankingUpdater {
  public:
    RankingUpdater(boost::asio::any_io_executor executor,
                   StreamGroup<RankingEvent, RankingApplied>& events,
                   RankingStore& store,
                   StreamConsumerSettings settings);
    ~RankingUpdater();
    void Start();
    void Stop();

  private:
    RankingUpdateHandler handler_;
    std::unique_ptr<StreamConsumer<RankingEvent, RankingApplied>> consumer_;
};

}  // namespace joopang::workers
