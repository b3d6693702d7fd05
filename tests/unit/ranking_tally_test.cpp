// The rankings' arithmetic (domain/ranking_tally.hpp) and the circuit breaker in front of Redis:
// windows sum only their own buckets, scores decay with a bucket's age, rankings order by value
// then by the lower product id (equal scores within float noise included).
#include "domain/ranking_tally.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "common/circuit_breaker.hpp"

namespace joopang {
namespace {

constexpr EpochMs kHour = 3'600'000;

TEST(RankingTally, AWindowSumsItsBucketsAndDecaysEachByItsAge) {
    const auto day = *FindRankingWindow("24h");
    const EpochMs now = 1000 * kHour + kHour / 2;  // halfway through hour 1000
    RankingWeights w{.sales = 1, .revenue = 0.01, .views = 0.5, .half_life_ms = 2 * kHour};
    std::vector<BucketTally> buckets = {
        {.product_id = 7, .bucket = 1000, .sales = 2, .revenue_cents = 1000, .views = 4},
        {.product_id = 7, .bucket = 998, .sales = 1},
        {.product_id = 9, .bucket = 977, .sales = 5},   // the window's first hour
        {.product_id = 9, .bucket = 976, .sales = 50},  // a day and more ago: outside
    };
    auto sums = SumWindow(day, buckets, now, w);
    ASSERT_EQ(sums.size(), 2u);
    EXPECT_EQ(sums[0].product_id, 7);
    EXPECT_EQ(sums[0].sales, 3);
    EXPECT_EQ(sums[0].revenue_cents, 1000);
    EXPECT_EQ(sums[0].views, 4);
    // Hour 1000 started half an hour ago (a quarter of a half-life); hour 998 2.5 hours ago.
    const double want = (2 + 0.1 + 2) * std::exp2(-0.25) + 1 * std::exp2(-1.25);
    EXPECT_NEAR(sums[0].score, want, 1e-12);
    EXPECT_EQ(sums[1].sales, 5);
}

TEST(RankingTally, RankingsOrderByValueThenByTheLowerIdAndLeaveOutNothingness) {
    std::vector<ProductTally> t = {{.product_id = 10, .sales = 3},
                                   {.product_id = 9, .sales = 3},
                                   {.product_id = 4, .sales = 5},
                                   {.product_id = 2, .sales = 0, .views = 8},
                                   {.product_id = 1, .sales = -1}};
    auto top = TopByMetric(t, RankingMetric::kSales, 10);
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(top[0].product_id, 4);
    EXPECT_EQ(top[1].product_id, 9);
    EXPECT_EQ(top[2].product_id, 10);
    EXPECT_EQ(TopByMetric(t, RankingMetric::kSales, 2).size(), 2u);
    auto views = TopByMetric(t, RankingMetric::kViews, 10);
    ASSERT_EQ(views.size(), 1u);
    EXPECT_EQ(views[0].product_id, 2);
}

TEST(RankingTally, ScoresEqualButForFloatNoiseRankByTheLowerId) {
    ProductTally a{.product_id = 8, .score = 0.1 + 0.2};  // 0.30000000000000004
    ProductTally b{.product_id = 3, .score = 0.3};
    EXPECT_NE(a.score, b.score);
    EXPECT_TRUE(RanksBefore(b, a, RankingMetric::kScore));
    EXPECT_FALSE(RanksBefore(a, b, RankingMetric::kScore));
    ProductTally c{.product_id = 9, .score = 0.3001};
    EXPECT_TRUE(RanksBefore(c, b, RankingMetric::kScore));
}

TEST(RankingTally, MetricsParseByName) {
    for (auto m : kRankingMetrics) EXPECT_EQ(ParseRankingMetric(ToString(m)), m);
    EXPECT_FALSE(ParseRankingMetric("likes"));
}

TEST(CircuitBreaker, OpensAfterFailuresInARowThenLetsOneTrialThroughPerPeriod) {
    CircuitBreaker b(2, 1000);
    EXPECT_TRUE(b.Allow(0));
    b.RecordFailure(0);
    b.RecordSuccess();  // not in a row
    b.RecordFailure(10);
    EXPECT_TRUE(b.Allow(10));
    b.RecordFailure(20);
    EXPECT_TRUE(b.open());
    EXPECT_FALSE(b.Allow(500));
    EXPECT_TRUE(b.Allow(1020));   // the trial
    EXPECT_FALSE(b.Allow(1021));  // only one
    b.RecordFailure(1030);        // the trial failed: open again
    EXPECT_FALSE(b.Allow(1500));
    EXPECT_TRUE(b.Allow(2031));
    b.RecordSuccess();
    EXPECT_FALSE(b.open());
    EXPECT_TRUE(b.Allow(2032));
    EXPECT_TRUE(b.Allow(2033));
}

}  // namespace
}  // namespace joopang
