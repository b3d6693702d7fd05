#pragma once
/// RankingBoard on Redis: one GET of a published ranking's fixed key (ranking_codec.hpp), with a
/// short timeout so that a stalled Redis fails fast (the read path falls back to the database).

#include <chrono>
#include <memory>

#include "app/ports/ranking_store.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class RedisRankingBoard final : public RankingBoard {
  public:
    RedisRankingBoard(std::shared_ptr<Client> client, std::chrono::milliseconds timeout)
        : client_(std::move(client)), timeout_(timeout) {}

    Awaitable<Result<std::optional<PublishedRanking>>> Read(const RankingWindow& window,
                                                            RankingMetric metric,
                                                            std::int64_t category_id) override;

  private:
    std::shared_ptr<Client> client_;
    std::chrono::milliseconds timeout_;
};

}  // namespace joopang::redis
