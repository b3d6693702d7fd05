#pragma once
/// RankingStore on Redis: buckets and window sums as sorted sets under the hash tag {rank}, kept
/// by one script per batch (lua/ranking_apply.lua), which also records each applied outbox id.
/// Keys: rank:{rank}:b:<family>:<bucket>:<metric>:<scope> (with a TTL),
/// rank:{rank}:w:<family>:<metric>:<scope>, rank:{rank}:edge, rank:{rank}:applied,
/// rank:{rank}:scopes, rank:{rank}:landmark; metric is sales | revenue (cents) | score, scope is
/// `all` or `c<category id>`.

#include <memory>

#include "app/ports/ranking_store.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class RedisRankingStore final : public RankingStore {
  public:
    RedisRankingStore(std::shared_ptr<Client> client, RankingWeights weights)
        : client_(std::move(client)), weights_(weights) {}

    Awaitable<Status> Apply(const std::vector<RankingEvent>& events, EpochMs now) override;
    Awaitable<Result<int>> Retire(EpochMs now) override;

    /// Members one retire step touches at most (each step is one script call).
    static constexpr int kRetireChunk = 200;
    /// How long an applied outbox id is remembered: longer than any redelivery.
    static constexpr EpochMs kAppliedRetentionMs = 8LL * 24 * 3600 * 1000;

    static constexpr const char* kAppliedKey = "rank:{rank}:applied";

  private:
    std::shared_ptr<Client> client_;
    RankingWeights weights_;
};

}  // namespace joopang::redis
