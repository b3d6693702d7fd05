#pragma once
/// How a published ranking is stored under its fixed key: one JSON value,
/// {"generatedAt": ms, "items": [[productId, name, sales, revenueCents, views, score], …]}, so that
/// a read is one GET and one parse. Shared by the refresh (writer) and the read path.

#include <optional>
#include <string>
#include <string_view>

#include "app/ports/ranking_store.hpp"

namespace joopang::redis {

std::string EncodePublishedRanking(const PublishedRanking& ranking);
/// nullopt when `text` is not a value EncodePublishedRanking wrote.
std::optional<PublishedRanking> DecodePublishedRanking(std::string_view text);

/// rank:{rank}:top:<window>:<metric>:<all | c<category>>
std::string PublishedRankingKey(std::string_view window,
                                RankingMetric metric,
                                std::int64_t category_id);
/// `all` or c<category>, as the ranking keys name a scope.
std::string RankingScopeName(std::int64_t category_id);

}  // namespace joopang::redis
