#pragma once
/// The coupon persister: drains the coupon issue streams (one per template) into the database,
/// exactly once in effect. It is the stream-consumer engine (stream_consumer.hpp) with the
/// CouponPersistHandler below: each batch of wins is one multi-row INSERT … ON CONFLICT DO
/// NOTHING transaction, so a win delivered again is a no-op; the coupon ids written are recorded
/// with the acknowledgement (the request states that answer GET …/issue-requests/{id}).

#include <boost/asio/any_io_executor.hpp>
#include <map>
#include <memory>

#include "app/ports/coupon_issue_queue.hpp"
#include "app/ports/coupon_repository.hpp"
#include "common/blocking_pool.hpp"
#include "workers/stream_consumer.hpp"

namespace joopang::workers {

/// Writes a batch of wins to the database (on the blocking pool). Prepare loads the template the
/// stream belongs to; a database that cannot be reached answers kUnavailable.
class CouponPersistHandler final : public StreamHandler<IssueEntry, PersistedCoupon> {
  public:
    CouponPersistHandler(CouponRepository& repo, BlockingPool& pool) : repo_(repo), pool_(pool) {}

    boost::asio::awaitable<Status> Prepare(std::int64_t template_id) override;
    boost::asio::awaitable<Result<std::vector<PersistedCoupon>>> Handle(
        std::int64_t template_id, const std::vector<IssueEntry>& wins) override;
    /// Counts the coupons written and acknowledged (joopang_coupons_persisted_total).
    void Completed(std::int64_t template_id, std::size_t wins) override;

  private:
    CouponRepository& repo_;
    BlockingPool& pool_;
    std::map<std::int64_t, CouponTemplate> templates_;  // prepared; on the consumer's executor
};

class CouponPersister {
  public:
    CouponPersister(boost::asio::any_io_executor executor,
                    CouponIssueQueue& queue,
                    CouponRepository& repo,
                    BlockingPool& pool,
                    StreamConsumerSettings settings);
    ~CouponPersister();
    void Start();
    /// Stops after the batches in progress; waits for them.
    void Stop();

  private:
    CouponPersistHandler handler_;
    std::unique_ptr<StreamConsumer<IssueEntry, PersistedCoupon>> consumer_;
};

}  // namespace joopang::workers
