#include "infra/redis/redis_ranking_board.hpp"

#include "infra/redis/ranking_codec.hpp"

namespace joopang::redis {

Awaitable<Result<std::optional<PublishedRanking>>> RedisRankingBoard::Read(
    const RankingWindow& window, RankingMetric metric, std::int64_t category_id) {
    CallOptions opts;
    opts.timeout = timeout_;
    auto reply = co_await client_->Command(
        MakeArgs("GET", PublishedRankingKey(window.name, metric, category_id)), opts);
    if (!reply) co_return reply.error();
    if (reply->IsError()) co_return Error::Unavailable("ranking read: " + reply->str);
    if (reply->IsNil()) co_return std::optional<PublishedRanking>{};
    auto ranking = DecodePublishedRanking(reply->str);
    if (!ranking) co_return Error::Internal("ranking read: not a published ranking");
    co_return std::optional<PublishedRanking>(std::move(*ranking));
}

}  // namespace joopang::redis
