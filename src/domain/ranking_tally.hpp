#pragma once
/// What a ranking shows (SPEC §5): per product, its sales, revenue and views in a window and the
/// weighted, decaying score; and the order of a ranking — the metric's value, highest first,
/// equal values by the lower product id. Both sources of a ranking (the published Redis keys and
/// the database fallback) produce these, so that they agree by construction.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/ranking.hpp"

namespace joopang {

enum class RankingMetric { kSales, kRevenue, kViews, kScore };
inline constexpr RankingMetric kRankingMetrics[] = {RankingMetric::kSales, RankingMetric::kRevenue,
                                                    RankingMetric::kViews, RankingMetric::kScore};
std::optional<RankingMetric> ParseRankingMetric(std::string_view name);
std::string_view ToString(RankingMetric metric);

/// One product's figures in one window.
struct ProductTally {
    std::int64_t product_id = 0;
    std::int64_t sales = 0;          // quantity sold
    std::int64_t revenue_cents = 0;  // paid line amounts
    std::int64_t views = 0;
    double score = 0;  // weighted and decayed as of a moment (see BucketDecay)
    std::string name;
};

/// One product's counts in one bucket of a window's family, as the database fallback reads them.
struct BucketTally {
    std::int64_t product_id = 0;
    std::int64_t bucket = 0;  // RankingWindow::BucketOf
    std::int64_t sales = 0;
    std::int64_t revenue_cents = 0;
    std::int64_t views = 0;
};

/// How much a bucket still counts at `now`: halves every half-life, from the bucket's start.
double BucketDecay(const RankingWindow& window,
                   std::int64_t bucket,
                   EpochMs now,
                   EpochMs half_life_ms);
/// The weighted value of counts before decay.
double WeightedCounts(const RankingWeights& weights,
                      std::int64_t sales,
                      std::int64_t revenue_cents,
                      std::int64_t views);

/// Sums the buckets inside `window` at `now` per product (buckets outside it are ignored), with
/// each bucket's score decayed to `now`. Products come out in id order; names are left empty.
std::vector<ProductTally> SumWindow(const RankingWindow& window,
                                    const std::vector<BucketTally>& buckets,
                                    EpochMs now,
                                    const RankingWeights& weights);

double MetricValue(const ProductTally& tally, RankingMetric metric);
/// The value a ranking orders by: the metric's value, a score rounded to 10 significant digits —
/// sums of the same weights in another order may differ in their last bits, and equal scores must
/// still rank the lower product id first.
double RankValue(const ProductTally& tally, RankingMetric metric);
/// True when `a` ranks before `b` by `metric`: higher RankValue, then lower product id.
bool RanksBefore(const ProductTally& a, const ProductTally& b, RankingMetric metric);
/// The first `limit` products by `metric` among those whose value is above zero.
std::vector<ProductTally> TopByMetric(std::vector<ProductTally> tallies,
                                      RankingMetric metric,
                                      std::size_t limit);

}  // namespace joopang
