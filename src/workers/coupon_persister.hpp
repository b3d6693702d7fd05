#pragma once
/// Drains the coupon issue streams into the database.
///
/// Design: `lanes` coroutines per process (each a consumer of its own, "<consumer>/<lane>") loop
/// over the templates' streams, so that one lane's database transaction overlaps another's Redis
/// reads and acknowledgements (and, on PostgreSQL, another transaction). For each it (1) retries
/// its own pending entries once their retry time has come, (2) takes over entries a dead consumer
/// has held longer than `claim_idle` (XAUTOCLAIM), (3) reads new entries — and writes each read as
/// one multi-row INSERT … ON CONFLICT DO NOTHING transaction, then records the coupon ids,
/// acknowledges and deletes the entries. Redelivery is therefore harmless (at-least-once delivery,
/// exactly-once effect). When the database is unavailable the whole loop backs off and nothing
/// is counted against the entries; when a batch fails for another reason its entries are written
/// one by one to isolate the culprit, whose failures are counted in Redis, and after
/// `max_deliveries` it moves to the dead-letter stream.

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
    std::chrono::milliseconds idle_poll{10};
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
    /// One drain loop's own state: its consumer name, per-stream progress, database back-off.
    struct Lane {
        std::string consumer;
        std::map<std::int64_t, StreamState> streams;
        int db_failures = 0;
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
