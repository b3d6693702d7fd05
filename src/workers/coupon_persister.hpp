#pragma once
/// Drains the coupon issue streams into the database.
///
/// Design: `lanes` coroutines per process (each a consumer of its own, "<consumer>/<lane>") loop
/// over the templates' streams, so that one lane's database transaction overlaps another's Redis
/// reads and acknowledgements (and, on PostgreSQL, another transaction). For each it (1) retries
/// its own pending entries once their retry time has come, (2) takes over entries a dead consumer
/// has held longer than `claim_idle` (XAUTOCLAIM), (3) reads new entries — each carrying the wins
/// of one issue-script call — and writes each read's wins as one multi-row INSERT … ON CONFLICT
/// DO NOTHING transaction, then records the coupon ids and acknowledges the entries (the stream
/// is trimmed behind them). Redelivery is therefore harmless (at-least-once delivery,
/// exactly-once effect). When the database is unavailable the whole loop backs off and nothing
/// is counted against the entries; when a batch fails for another reason its wins are written
/// one by one to isolate the culprit, whose failures are counted in Redis, and after
/// `max_deliveries` it alone moves to the dead-letter stream.
///
/// Idle, only the first lane polls (every `idle_poll`, backing off to `idle_poll_max`); the others
/// wait until a lane finds work, or at most the pending-read refresh.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/ports/coupon_issue_queue.hpp"
#include "app/ports/coupon_repository.hpp"
#include "common/blocking_pool.hpp"

namespace joopang::workers {

struct PersisterSettings {
    std::string consumer;  // unique per process
    int batch = 2000;
    int lanes = 3;  // concurrent drain loops (consumers) in this process
    std::int64_t max_deliveries = 5;
    std::chrono::milliseconds retry_delay{1000};
    std::chrono::milliseconds claim_idle{5000};
    /// Consumers with nothing pending that have not read for this long (stopped or dead
    /// processes) are removed from the group, so the list does not grow with every restart.
    /// 0 = never.
    std::chrono::milliseconds forget_consumers_after{600000};
    /// The first lane's poll interval while idle: idle_poll at first, doubling up to
    /// idle_poll_max while nothing comes.
    std::chrono::milliseconds idle_poll{10};
    std::chrono::milliseconds idle_poll_max{80};
    std::chrono::milliseconds stats_interval{2000};
};

class CouponPersister {
  public:
    CouponPersister(boost::asio::any_io_executor executor,
                    CouponIssueQueue& queue,
                    CouponRepository& repo,
                    BlockingPool& pool,
                    PersisterSettings settings);
    ~CouponPersister();
    void Start();
    /// Asks the loop to stop after the batch in progress and waits for it.
    void Stop();

  private:
    struct StreamState {
        bool ready = false;
        std::optional<CouponTemplate> tmpl;
        std::chrono::steady_clock::time_point retry_at{};
        std::chrono::steady_clock::time_point claim_at{};
        /// This lane's consumer may hold delivered, unacknowledged entries: set by every read
        /// that delivered (or may have delivered) entries, cleared by a pending read that found
        /// none. An idle lane then polls with one read, not two (see DrainOnce).
        bool may_have_pending = true;
        std::chrono::steady_clock::time_point last_pending_read{};
    };
    /// Ends a helper lane's wait for work early (a timer; defined in the .cpp).
    struct Wake;
    /// One drain loop's own state: its consumer name, per-stream progress, database back-off.
    struct Lane {
        Lane();
        ~Lane();
        std::string consumer;
        std::map<std::int64_t, StreamState> streams;
        int db_failures = 0;
        std::unique_ptr<Wake> wake;  // helper lanes (all but the first) only
    };
    enum class Outcome { kDone, kDatabaseDown, kEntryFailed };

    boost::asio::awaitable<void> Loop(Lane& lane, bool publishes_stats);
    boost::asio::awaitable<bool> DrainOnce(Lane& lane,
                                           std::int64_t template_id,
                                           StreamState& state);
    /// Writes a batch of wins; a batch that fails for one win's sake is written win by win.
    boost::asio::awaitable<Outcome> Persist(Lane& lane,
                                            std::int64_t template_id,
                                            StreamState& state,
                                            std::vector<IssueEntry> wins);
    /// Records the wins that landed and acknowledges the entries all of whose wins are settled.
    boost::asio::awaitable<void> Complete(Lane& lane,
                                          std::int64_t template_id,
                                          const std::vector<std::string>& entry_ids,
                                          const std::vector<IssueEntry>& landed,
                                          const std::vector<PersistedCoupon>& persisted);
    boost::asio::awaitable<void> PublishStats();
    /// How often a lane re-reads its pending entries at the least (see DrainOnce).
    std::chrono::milliseconds PendingRefresh() const;
    /// A helper lane's idle wait: until WakeHelpers() or `longest`, whichever comes first.
    boost::asio::awaitable<void> WaitForWork(Lane& lane, std::chrono::milliseconds longest);
    /// Ends every helper lane's wait (on the persister's executor).
    void WakeHelpers();
    boost::asio::awaitable<void> ForgetIdleConsumers(const std::vector<std::int64_t>& templates);

    boost::asio::any_io_executor executor_;
    CouponIssueQueue& queue_;
    CouponRepository& repo_;
    BlockingPool& pool_;
    PersisterSettings settings_;
    std::vector<std::unique_ptr<Lane>> lanes_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> running_lanes_{0};
    std::promise<void> done_;
    bool started_ = false;
};

}  // namespace joopang::workers
