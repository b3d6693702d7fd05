#pragma once
/// The Redis side of coupon drops: the atomic issue script (CouponGate) and the issue streams as
/// the persister consumes them (CouponIssueQueue). Keys are in coupon_keys.hpp; issue requests go
/// through CouponIssueBatcher.

#include <memory>

#include "app/ports/coupon_gate.hpp"
#include "app/ports/coupon_issue_queue.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/coupon_issue_batcher.hpp"

namespace joopang::redis {

struct CouponStoreSettings {
    /// Issue requests per user per template per second; 0 = unlimited.
    std::int64_t rate_limit_per_second = 20;
    /// The most issue requests one script call decides (see CouponIssueBatcher).
    std::size_t issue_batch = CouponIssueBatcher::kDefaultMaxBatch;
    /// Batches of one thread and template at Redis at once (see CouponIssueBatcher).
    std::size_t issue_in_flight = CouponIssueBatcher::kDefaultMaxInFlight;
    /// How long sold-out answers are given from memory after Redis confirmed them (0 = never;
    /// see SoldOutMemo).
    std::chrono::milliseconds sold_out_memo = CouponIssueBatcher::kDefaultSoldOutMemo;
};

class RedisCouponStore final : public CouponGate, public CouponIssueQueue {
  public:
    RedisCouponStore(std::shared_ptr<Client> client, CouponStoreSettings settings);
    ~RedisCouponStore() override;

    // CouponGate
    Awaitable<Result<IssueDecision>> TryIssue(std::int64_t template_id,
                                              std::int64_t user_id) override;
    Awaitable<Status> Publish(const CouponTemplate& t, std::int64_t already_issued) override;
    Awaitable<Result<std::optional<IssueRequestState>>> FindRequest(
        std::int64_t template_id, std::int64_t request_id) override;
    Awaitable<Result<TemplateCounters>> Counters(std::int64_t template_id) override;
    Awaitable<Result<bool>> Restore(
        const CouponTemplate& t,
        const TemplateCounters& seen,
        std::int64_t reserved,
        const std::vector<std::pair<std::int64_t, std::int64_t>>& user_counts) override;

    // CouponIssueQueue
    Awaitable<Result<std::vector<std::int64_t>>> Templates() override;
    Awaitable<Status> EnsureGroup(std::int64_t template_id) override;
    Awaitable<Result<std::vector<IssueEntry>>> ReadPending(std::int64_t template_id,
                                                           const std::string& consumer,
                                                           int count) override;
    Awaitable<Result<std::vector<IssueEntry>>> ReadNew(std::int64_t template_id,
                                                       const std::string& consumer,
                                                       int count) override;
    Awaitable<Result<std::vector<IssueEntry>>> Reclaim(std::int64_t template_id,
                                                       const std::string& consumer,
                                                       std::int64_t min_idle_ms,
                                                       int count) override;
    Awaitable<Status> Complete(std::int64_t template_id,
                               const std::vector<std::string>& entry_ids,
                               const std::vector<PersistedCoupon>& persisted,
                               const std::vector<IssueEntry>& wins) override;
    Awaitable<Result<std::int64_t>> RecordFailure(std::int64_t template_id,
                                                  const IssueEntry& win) override;
    Awaitable<Status> DeadLetter(std::int64_t template_id,
                                 const IssueEntry& win,
                                 const std::string& reason) override;
    Awaitable<Result<std::int64_t>> ForgetIdleConsumers(std::int64_t template_id,
                                                        std::int64_t min_idle_ms) override;
    Awaitable<Result<std::int64_t>> Replay(const std::string& stream) override;
    Awaitable<Result<std::vector<StreamStats>>> Stats() override;

    /// A win's request id: the id "ms-s" of the stream entry that carries it and its index k
    /// among the entry's wins, as ms * 10^6 + s * 1000 + k ("1732200000000-3", k 7 ↔
    /// 1732200000000003007); 0 when s or k is 1000 or more (the issue script keeps both lower).
    static std::int64_t RequestIdOf(const std::string& entry_id, std::int64_t index);
    /// The entry id of a request id (its index is request_id % 1000).
    static std::string EntryIdOf(std::int64_t request_id);

  private:
    Awaitable<Result<std::vector<IssueEntry>>> ReadGroup(std::int64_t template_id,
                                                         const std::string& consumer,
                                                         int count,
                                                         const std::string& from);

    std::shared_ptr<Client> client_;
    std::unique_ptr<CouponIssueBatcher> batcher_;  // TryIssue's requests, coalesced per tick
};

}  // namespace joopang::redis
