#pragma once
/// RankingStore on Redis: buckets and window sums as sorted sets under the hash tag {rank}, kept
/// by one script per batch (lua/ranking_apply.lua), which also records each applied outbox id.
/// Keys: rank:{rank}:b:<family>:<bucket>:<metric>:<scope> (with a TTL),
/// rank:{rank}:w:<family>:<metric>:<scope>, rank:{rank}:edge, rank:{rank}:applied,
/// rank:{rank}:scopes, rank:{rank}:landmark, rank:{rank}:changed, rank:{rank}:rebase; metric is
/// sales | revenue (cents) | views | score, scope is `all` or `c<category id>`. Published rankings:
/// see ranking_codec.hpp.

#include <memory>

#include "app/ports/ranking_store.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class RedisRankingStore final : public RankingStore {
  public:
    RedisRankingStore(std::shared_ptr<Client> client, RankingWeights weights)
        : client_(std::move(client)), weights_(weights) {}

    Awaitable<Status> Apply(const std::vector<RankingEvent>& events, EpochMs now) override;
    Awaitable<Result<bool>> Retire(EpochMs now, int max_steps) override;
    Awaitable<Result<bool>> Rebase(EpochMs now, int max_steps) override;
    Awaitable<Result<std::vector<RankingScope>>> TakeChanged(std::size_t max) override;
    Awaitable<Result<std::vector<std::int64_t>>> Categories() override;
    Awaitable<Result<RankingSet>> Collect(const RankingWindow& window,
                                          std::int64_t category_id,
                                          std::size_t limit,
                                          EpochMs now) override;
    Awaitable<Status> Publish(const RankingWindow& window,
                              std::int64_t category_id,
                              const RankingSet& set,
                              EpochMs ttl_ms) override;

    /// Members one retire step touches at most (each step is one script call).
    static constexpr int kRetireChunk = 100;
    /// Members (or key checks) one rebase step touches at most.
    static constexpr int kRebaseChunk = 200;
    /// Half-lives from the landmark after which it moves on: weights reach 2^256 (a double
    /// overflows past 2^1023, so a rebase held up by an outage has room to spare).
    static constexpr int kRebaseDue = 256;
    /// How long an applied outbox id is remembered: longer than any redelivery.
    static constexpr EpochMs kAppliedRetentionMs = 8LL * 24 * 3600 * 1000;

    static constexpr const char* kAppliedKey = "rank:{rank}:applied";

  private:
    std::shared_ptr<Client> client_;
    RankingWeights weights_;
};

}  // namespace joopang::redis
