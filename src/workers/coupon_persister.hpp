#pragma once
/// Drains the coupon issue streams into the database.
///
/// Design: one coroutine per process loops over the templates' streams. For each it (1) retries
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

#include "app/ports/coupon_issue_queue.hpp"
#include "app/ports/coupon_repository.hpp"
#include "common/blocking_pool.hpp"

namespace joopang::workers {

struct PersisterSettings {
    std::string consumer;  // unique per process
    int batch = 500;
    std::int64_t max_deliveries = 5;
    std::chrono::milliseconds retry_delay{1000};
    std::chrono::milliseconds claim_idle{5000};
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
    };
    enum class Outcome { kDone, kDatabaseDown, kEntryFailed };

    boost::asio::awaitable<void> Loop();
    boost::asio::awaitable<bool> DrainOnce(std::int64_t template_id, StreamState& state);
    boost::asio::awaitable<Outcome> Persist(std::int64_t template_id,
                                            StreamState& state,
                                            std::vector<IssueEntry> entries);
    boost::asio::awaitable<void> PublishStats();

    boost::asio::any_io_executor executor_;
    CouponIssueQueue& queue_;
    CouponRepository& repo_;
    BlockingPool& pool_;
    PersisterSettings settings_;
    std::map<std::int64_t, StreamState> streams_;
    std::atomic<bool> stopping_{false};
    std::promise<void> done_;
    bool started_ = false;
    int db_failures_ = 0;
};

}  // namespace joopang::workers
