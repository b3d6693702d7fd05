#pragma once
/// Coupon drop use cases. The issue path runs only the Redis script (CouponGate); template
/// administration writes the database first and then publishes the metadata to Redis; reads
/// combine both. Coroutines: call from any executor; database work runs on the blocking pool.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/ports/coupon_gate.hpp"
#include "app/ports/coupon_issue_queue.hpp"
#include "app/ports/coupon_repository.hpp"
#include "app/ports/user_repository.hpp"
#include "common/blocking_pool.hpp"
#include "common/request_timing.hpp"

namespace joopang {

/// A template with its live counts.
struct TemplateView {
    CouponTemplate tmpl;
    std::int64_t reserved = 0;
    std::int64_t issued = 0;
    std::int64_t remaining = 0;
};

struct IssueOutcome {
    std::int64_t request_id = 0;
    std::int64_t position = 0;
    std::int64_t remaining = 0;
    std::int64_t estimated_persist_ms = 0;
};

struct ReconcileLine {
    std::int64_t template_id = 0;
    std::int64_t total = 0;
    std::int64_t redis_reserved = 0;
    std::int64_t redis_stock = 0;
    std::int64_t database_issued = 0;
    std::int64_t in_stream = 0;
    std::int64_t dead_letters = 0;
    std::int64_t missing_in_database = 0;
    std::vector<std::string> differences;
    std::vector<std::string> repairs;
};

struct ReconcileReport {
    EpochMs generated_at = 0;
    bool repair = false;
    std::vector<ReconcileLine> templates;
};

struct CouponSettings {
    /// Rows per second the persister is assumed to sustain, for estimatedPersistMs.
    std::int64_t assumed_persist_rate = 50'000;
};

class CouponService {
  public:
    CouponService(CouponRepository& repo,
                  UserRepository& users,
                  CouponGate& gate,
                  CouponIssueQueue& queue,
                  BlockingPool& pool,
                  CouponSettings settings = {})
        : repo_(repo),
          users_(users),
          gate_(gate),
          queue_(queue),
          pool_(pool),
          settings_(settings) {}

    template <class T>
    using Awaitable = boost::asio::awaitable<T>;

    Awaitable<Result<TemplateView>> CreateTemplate(CouponTemplate input, RequestTiming& timing);
    Awaitable<Result<TemplateView>> SetStatus(std::int64_t id,
                                              TemplateStatus status,
                                              RequestTiming& timing);
    Awaitable<Result<TemplateView>> GetTemplate(std::int64_t id, RequestTiming& timing);
    Awaitable<Result<IssueOutcome>> Issue(std::int64_t template_id,
                                          std::int64_t user_id,
                                          RequestTiming& timing);
    Awaitable<Result<IssueRequestState>> RequestStatus(std::int64_t template_id,
                                                       std::int64_t request_id,
                                                       RequestTiming& timing);
    Awaitable<Result<std::vector<std::pair<Coupon, std::string>>>> UserCoupons(
        std::int64_t user_id, RequestTiming& timing);

    /// Writes every live template's metadata to Redis again (creating stock only where missing).
    Awaitable<Status> SyncTemplates();
    /// Compares Redis with the database per live template; with `repair`, restores Redis
    /// metadata and counters from the database where Redis lost them.
    Awaitable<Result<ReconcileReport>> Reconcile(bool repair);
    /// The last report (empty before the first run).
    std::optional<ReconcileReport> LastReport() const;

  private:
    Awaitable<Result<TemplateView>> View(CouponTemplate t, RequestTiming& timing);

    CouponRepository& repo_;
    UserRepository& users_;
    CouponGate& gate_;
    CouponIssueQueue& queue_;
    BlockingPool& pool_;
    CouponSettings settings_;
    mutable std::mutex report_mu_;
    std::optional<ReconcileReport> last_report_;
};

}  // namespace joopang
