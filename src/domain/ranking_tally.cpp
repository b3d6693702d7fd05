#include "domain/ranking_tally.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace joopang {

std::optional<RankingMetric> ParseRankingMetric(std::string_view name) {
    for (auto m : kRankingMetrics)
        if (ToString(m) == name) return m;
    return std::nullopt;
}

std::string_view ToString(RankingMetric metric) {
    switch (metric) {
        case RankingMetric::kSales:
            return "sales";
        case RankingMetric::kRevenue:
            return "revenue";
        case RankingMetric::kViews:
            return "views";
        case RankingMetric::kScore:
            return "score";
    }
    return "score";
}

double BucketDecay(const RankingWindow& window,
                   std::int64_t bucket,
                   EpochMs now,
                   EpochMs half_life_ms) {
    const double age = static_cast<double>(bucket * window.bucket_ms - now);
    return std::exp2(age / static_cast<double>(half_life_ms));
}

double WeightedCounts(const RankingWeights& weights,
                      std::int64_t sales,
                      std::int64_t revenue_cents,
                      std::int64_t views) {
    return weights.sales * static_cast<double>(sales) +
           weights.revenue * static_cast<double>(revenue_cents) / 100.0 +
           weights.views * static_cast<double>(views);
}

std::vector<ProductTally> SumWindow(const RankingWindow& window,
                                    const std::vector<BucketTally>& buckets,
                                    EpochMs now,
                                    const RankingWeights& weights) {
    const std::int64_t lowest = window.LowestBucket(now);
    std::map<std::int64_t, ProductTally> sums;
    for (const auto& b : buckets) {
        if (b.bucket < lowest) continue;
        auto& t = sums[b.product_id];
        t.product_id = b.product_id;
        t.sales += b.sales;
        t.revenue_cents += b.revenue_cents;
        t.views += b.views;
        t.score += WeightedCounts(weights, b.sales, b.revenue_cents, b.views) *
                   BucketDecay(window, b.bucket, now, weights.half_life_ms);
    }
    std::vector<ProductTally> out;
    out.reserve(sums.size());
    for (auto& [id, t] : sums) out.push_back(std::move(t));
    return out;
}

double MetricValue(const ProductTally& t, RankingMetric metric) {
    switch (metric) {
        case RankingMetric::kSales:
            return static_cast<double>(t.sales);
        case RankingMetric::kRevenue:
            return static_cast<double>(t.revenue_cents) / 100.0;
        case RankingMetric::kViews:
            return static_cast<double>(t.views);
        case RankingMetric::kScore:
            return t.score;
    }
    return 0;
}

double RankValue(const ProductTally& t, RankingMetric metric) {
    const double v = MetricValue(t, metric);
    if (metric != RankingMetric::kScore || v == 0 || !std::isfinite(v)) return v;
    const double scale = std::pow(10.0, 9 - std::floor(std::log10(std::fabs(v))));
    return std::round(v * scale) / scale;
}

bool RanksBefore(const ProductTally& a, const ProductTally& b, RankingMetric metric) {
    const double va = RankValue(a, metric), vb = RankValue(b, metric);
    if (va != vb) return va > vb;
    return a.product_id < b.product_id;
}

std::vector<ProductTally> TopByMetric(std::vector<ProductTally> tallies,
                                      RankingMetric metric,
                                      std::size_t limit) {
    // (rank value, index): each value computed once, however many comparisons.
    std::vector<std::pair<double, std::size_t>> keys;
    keys.reserve(tallies.size());
    for (std::size_t i = 0; i < tallies.size(); ++i)
        if (MetricValue(tallies[i], metric) > 0)
            keys.emplace_back(RankValue(tallies[i], metric), i);
    const auto cmp = [&](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first > b.first;
        return tallies[a.second].product_id < tallies[b.second].product_id;
    };
    const std::size_t n = std::min(limit, keys.size());
    std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(n), keys.end(), cmp);
    std::vector<ProductTally> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(std::move(tallies[keys[i].second]));
    return out;
}

}  // namespace joopang
