#pragma once
// An in-memory RankingHistory for the ranking use cases' unit tests: the buckets a test sets,
// counted per query, and a name made up for any product id.
#include <string>
#include <vector>

#include "app/ports/ranking_store.hpp"

namespace joopang::test_support {

class FakeRankingHistory final : public RankingHistory {
  public:
    int bucket_queries = 0;
    std::vector<BucketTally> buckets;
    Result<std::vector<BucketTally>> Buckets(const RankingWindow&, EpochMs, std::int64_t) override {
        ++bucket_queries;
        return buckets;
    }
    Result<std::vector<std::pair<std::int64_t, std::string>>> Names(
        const std::vector<std::int64_t>& ids) override {
        std::vector<std::pair<std::int64_t, std::string>> out;
        for (auto id : ids) out.emplace_back(id, "product " + std::to_string(id));
        return out;
    }
    Result<std::vector<ProductTally>> TopSellers(EpochMs, std::size_t) override {
        return std::vector<ProductTally>{};
    }
};

}  // namespace joopang::test_support
