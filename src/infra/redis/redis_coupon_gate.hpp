#pragma once
/// CouponGate on Redis: the request path's side of coupon drops. Issue requests go through the
/// CouponIssueBatcher (one lua/coupon_issue.lua call per batch); publishing, request lookups,
/// counters and repairs are a command or a script each (lua/coupon_request.lua,
/// lua/coupon_counters.lua, lua/coupon_footprint.lua, lua/coupon_restore.lua). Keys:
/// coupon_keys.hpp; formats: coupon_codec.hpp.

#include <memory>

#include "app/ports/coupon_gate.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/coupon_issue_batcher.hpp"

namespace joopang::redis {

struct CouponGateSettings {
    /// Issue requests per user per template per second; 0 = unlimited.
    std::int64_t rate_limit_per_second = 20;
    /// The most issue requests one script call decides (see CouponIssueBatcher).
    std::size_t issue_batch = CouponIssueBatcher::kDefaultMaxBatch;
    /// Batches of one thread and template at Redis at once (see CouponIssueBatcher).
    std::size_t issue_in_flight = CouponIssueBatcher::kDefaultMaxInFlight;
    /// How long sold-out answers are given from memory after Redis confirmed them (0 = never;
    /// see SoldOutMemo).
    std::chrono::milliseconds sold_out_memo = CouponIssueBatcher::kDefaultSoldOutMemo;
    /// Replicas that must have a win before it is answered 202 (0 = the master's decision is
    /// enough; see CouponIssueBatcher::RequireReplicas), and how long to wait for them.
    int wait_replicas = 0;
    std::chrono::milliseconds wait_timeout{100};
};

class RedisCouponGate final : public CouponGate {
  public:
    RedisCouponGate(std::shared_ptr<Client> client, CouponGateSettings settings);
    ~RedisCouponGate() override;

    Awaitable<Result<IssueDecision>> TryIssue(std::int64_t template_id,
                                              std::int64_t user_id) override;
    Awaitable<Status> Publish(const CouponTemplate& t, std::int64_t already_issued) override;
    Awaitable<Result<std::optional<IssueRequestState>>> FindRequest(
        std::int64_t template_id, std::int64_t request_id) override;
    Awaitable<Result<TemplateCounters>> Counters(std::int64_t template_id) override;
    Awaitable<Result<std::vector<DropKey>>> Footprint(std::int64_t template_id) override;
    Awaitable<Result<bool>> Restore(
        const CouponTemplate& t,
        const TemplateCounters& seen,
        std::int64_t reserved,
        const std::vector<std::pair<std::int64_t, std::int64_t>>& user_counts) override;

  private:
    std::shared_ptr<Client> client_;
    std::unique_ptr<CouponIssueBatcher> batcher_;  // TryIssue's requests, coalesced per tick
};

}  // namespace joopang::redis
