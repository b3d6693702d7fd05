#pragma once
/// CouponIssueQueue on Redis: the issue streams as the persister consumes them — one stream per
/// template, one consumer group, reads in chunks, reclaiming from dead consumers, acknowledging
/// with the request states, trimming, dead letters and their replay (lua/stream_*.lua,
/// lua/coupon_dead_letter.lua). Keys: coupon_keys.hpp; formats: coupon_codec.hpp.

#include <memory>

#include "app/ports/coupon_issue_queue.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class RedisCouponIssueQueue final : public CouponIssueQueue {
  public:
    explicit RedisCouponIssueQueue(std::shared_ptr<Client> client) : client_(std::move(client)) {}

    std::string StreamName(std::int64_t template_id) const override;
    Awaitable<Result<std::vector<std::int64_t>>> Streams() override;
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
    Awaitable<Result<std::int64_t>> WinsWaiting(std::int64_t t) override;
    Awaitable<Result<std::int64_t>> DeadLetters(std::int64_t t) override;

  private:
    Awaitable<Result<std::vector<IssueEntry>>> ReadGroup(std::int64_t template_id,
                                                         const std::string& consumer,
                                                         int count,
                                                         const std::string& from);

    std::shared_ptr<Client> client_;
};

}  // namespace joopang::redis
