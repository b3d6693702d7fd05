#pragma once
/// Writes the product views counted in memory (ViewCounter) to the database and to the rankings,
/// in one batch per run. The database is written first: if that fails the counts go back to the
/// counter for the next run. The rankings' batch then waits in a queue until the store has taken
/// it (while the store is unavailable); each batch carries a key of its own, so that a batch sent
/// again after an unclear failure (a timeout) counts once. A batch the store refuses outright is
/// logged and dropped, so that it cannot hold up the ones behind it. Both therefore see the same
/// views at the same minute. Runs on one job at a time (not thread-safe); every instance flushes
/// its own counts.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "app/ports/catalog_repository.hpp"
#include "app/ports/ranking_store.hpp"
#include "app/view_counter.hpp"
#include "common/blocking_pool.hpp"
#include "common/clock.hpp"

namespace joopang {

class ViewFlush {
  public:
    /// `instance` names this process in the batches' keys (with its start time and a sequence).
    ViewFlush(ViewCounter& views,
              CatalogRepository& catalog,
              RankingStore& rankings,
              BlockingPool& pool,
              std::string instance,
              std::function<EpochMs()> now = NowMs);

    boost::asio::awaitable<Status> Flush();

    /// Batches that wait for the rankings store (while it is down) are kept up to this many;
    /// beyond it the oldest are dropped (an hour of one-second flushes).
    static constexpr std::size_t kMaxWaitingBatches = 3600;
    std::size_t waiting() const { return waiting_.size(); }

  private:
    ViewCounter& views_;
    CatalogRepository& catalog_;
    RankingStore& rankings_;
    BlockingPool& pool_;
    std::string batch_prefix_;
    std::int64_t next_batch_ = 0;
    std::function<EpochMs()> now_;
    std::deque<RankingEvent> waiting_;
};

}  // namespace joopang
