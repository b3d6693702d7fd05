#pragma once
/// RankingHistory on SQL: the rankings' figures from paid orders and per-minute product views.

#include "app/ports/ranking_store.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

class SqlRankingHistory final : public RankingHistory {
  public:
    explicit SqlRankingHistory(Db& db) : db_(db) {}
    Result<std::vector<BucketTally>> Buckets(const RankingWindow& window,
                                             EpochMs from,
                                             std::int64_t category_id) override;
    Result<std::vector<std::pair<std::int64_t, std::string>>> Names(
        const std::vector<std::int64_t>& ids) override;
    Result<std::vector<ProductTally>> TopSellers(EpochMs since, std::size_t limit) override;

  private:
    Db& db_;
};

}  // namespace joopang::sql
