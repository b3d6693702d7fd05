// Unit tests of the joopang-bench latency histogram: bucket layout and percentile math.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "joopang_bench_histogram.hpp"

namespace joopang::bench {
namespace {

/// Exact percentile of a sorted sample with the same rank rule as Histogram::Percentile.
std::uint64_t ExactPercentile(const std::vector<std::uint64_t>& sorted, double p) {
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

TEST(HistogramTest, EmptyReportsZero) {
    Histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.Percentile(50), 0u);
    EXPECT_EQ(h.Percentile(100), 0u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.mean(), 0.0);
}

TEST(HistogramTest, BucketsAreContiguousAndCoverEveryValue) {
    // Each bucket starts where the previous one ended, and values map back to their bucket.
    for (std::size_t i = 1; i < 40 * (std::size_t{1} << Histogram::kSubBucketBits); ++i) {
        ASSERT_EQ(Histogram::BucketLow(i),
                  Histogram::BucketLow(i - 1) + Histogram::BucketWidth(i - 1))
            << "bucket " << i;
        ASSERT_EQ(Histogram::BucketIndex(Histogram::BucketLow(i)), i);
        std::uint64_t last = Histogram::BucketLow(i) + Histogram::BucketWidth(i) - 1;
        ASSERT_EQ(Histogram::BucketIndex(last), i);
    }
    EXPECT_EQ(Histogram::BucketIndex(0), 0u);
    // The largest value has a bucket too.
    auto top = Histogram::BucketIndex(UINT64_MAX);
    EXPECT_EQ(Histogram::BucketLow(top) + (Histogram::BucketWidth(top) - 1), UINT64_MAX);
}

TEST(HistogramTest, SmallValuesAreExact) {
    Histogram h;
    for (std::uint64_t v = 1; v <= 100; ++v) h.Record(v);
    EXPECT_EQ(h.count(), 100u);
    EXPECT_EQ(h.Percentile(50), 50u);
    EXPECT_EQ(h.Percentile(90), 90u);
    EXPECT_EQ(h.Percentile(99), 99u);
    EXPECT_EQ(h.Percentile(99.9), 100u);
    EXPECT_EQ(h.Percentile(100), 100u);
    EXPECT_EQ(h.Percentile(0), 1u);
    EXPECT_EQ(h.min(), 1u);
    EXPECT_EQ(h.max(), 100u);
    EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(HistogramTest, SingleValueIsReportedExactlyAtEveryPercentile) {
    Histogram h;
    h.Record(123'456'789);
    for (double p : {0.0, 1.0, 50.0, 99.9, 100.0}) EXPECT_EQ(h.Percentile(p), 123'456'789u) << p;
}

TEST(HistogramTest, PercentilesWithinRelativeErrorOfExactOnes) {
    // Log-normal latencies around 1 ms in ns, like a real run.
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(std::log(1e6), 0.8);
    std::vector<std::uint64_t> values;
    Histogram h;
    for (int i = 0; i < 100000; ++i) {
        auto v = static_cast<std::uint64_t>(dist(rng));
        values.push_back(v);
        h.Record(v);
    }
    std::sort(values.begin(), values.end());
    const double bound = 1.0 / (1 << (Histogram::kSubBucketBits + 1)) + 1e-9;
    for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
        double exact = static_cast<double>(ExactPercentile(values, p));
        double got = static_cast<double>(h.Percentile(p));
        EXPECT_LE(std::abs(got - exact) / exact, bound) << "p" << p;
    }
    EXPECT_EQ(h.max(), values.back());
    EXPECT_EQ(h.min(), values.front());
    EXPECT_EQ(h.Percentile(100), values.back());
}

TEST(HistogramTest, RankRuleMatchesNearestRank) {
    // 10 values: p90 is the 9th, p91 the 10th.
    Histogram h;
    for (std::uint64_t v = 10; v <= 100; v += 10) h.Record(v);
    EXPECT_EQ(h.Percentile(90), 90u);
    EXPECT_EQ(h.Percentile(91), 100u);
    EXPECT_EQ(h.Percentile(10), 10u);
    EXPECT_EQ(h.Percentile(10.5), 20u);
}

TEST(HistogramTest, MergeEqualsRecordingEverything) {
    Histogram a, b, all;
    for (std::uint64_t v = 1; v < 50000; v += 7) {
        (v % 2 ? a : b).Record(v * 1000);
        all.Record(v * 1000);
    }
    a.Merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.min(), all.min());
    EXPECT_EQ(a.max(), all.max());
    EXPECT_DOUBLE_EQ(a.mean(), all.mean());
    for (double p : {50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(a.Percentile(p), all.Percentile(p));
    Histogram empty;
    a.Merge(empty);
    EXPECT_EQ(a.count(), all.count());
    empty.Merge(all);
    EXPECT_EQ(empty.Percentile(99), all.Percentile(99));
}

TEST(HistogramTest, RecordNAndReset) {
    Histogram h;
    h.RecordN(1000, 99);
    h.RecordN(1'000'000, 1);
    EXPECT_EQ(h.count(), 100u);
    // 1000 lies in a bucket 4 wide: reported as its midpoint, within 0.4 %.
    EXPECT_NEAR(static_cast<double>(h.Percentile(99)), 1000.0, 4.0);
    EXPECT_EQ(h.Percentile(99.5), 1'000'000u);
    h.Reset();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.Percentile(50), 0u);
}

}  // namespace
}  // namespace joopang::bench
