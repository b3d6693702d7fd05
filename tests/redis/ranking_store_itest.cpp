// The ranking store on a real redis-server, with the clock in the test's hands: events are
// summed into every window once, a bucket leaves a window's sum when the window moves past it
// (late events for it too), retiring a large bucket takes many small steps, and the decay
// landmark moves on without changing any ranking.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "infra/redis/redis_ranking_store.hpp"
#include "redis_test_support.hpp"

namespace joopang::redis {
namespace {

constexpr EpochMs kMinute = 60'000, kHour = 60 * kMinute, kDay = 24 * kHour;
// A Monday 10:00:30 UTC, so that buckets and days fall where the test expects.
constexpr EpochMs kT0 = 1'700'474'430'000;

class RankingStoreRedisTest : public testing::OneClientTest {
  protected:
    void SetUp() override {
        testing::OneClientTest::SetUp();
        Must(MakeArgs("FLUSHALL"));
        store_ = std::make_unique<RedisRankingStore>(client_, RankingWeights{});
    }

    /// A window sum of `product` (0 when absent).
    double Sum(const std::string& family,
               const std::string& metric,
               const std::string& scope,
               std::int64_t product) {
        // Members are product ids zero-padded to 19 digits (equal scores then order by id).
        char member[32];
        std::snprintf(member, sizeof member, "%019lld", static_cast<long long>(product));
        auto r = Must(MakeArgs("ZSCORE", "rank:{rank}:w:" + family + ":" + metric + ":" + scope,
                               std::string(member)));
        return r.IsNil() ? 0.0 : std::stod(r.str);
    }
    static RankingEvent Paid(std::int64_t outbox_id, EpochMs at, std::vector<RankingLine> lines) {
        RankingEvent e;
        e.outbox_id = outbox_id;
        e.at = at;
        e.lines = std::move(lines);
        return e;
    }
    void Apply(std::vector<RankingEvent> events, EpochMs now) {
        auto st = Run(store_->Apply(events, now));
        ASSERT_TRUE(st) << st.error().message;
    }
    /// Retires step by step until nothing is left; returns the steps taken.
    int Retire(EpochMs now) {
        for (int steps = 1; steps < 1'000'000; ++steps) {
            auto more = Run(store_->Retire(now, 1));
            EXPECT_TRUE(more) << more.error().message;
            if (!more || !*more) return steps;
        }
        return -1;
    }

    /// Every member and value of a sorted set.
    std::vector<std::pair<std::string, double>> Members(const std::string& key) {
        auto r = Must(MakeArgs("ZRANGE", key, "0", "-1", "WITHSCORES"));
        std::vector<std::pair<std::string, double>> out;
        for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2)
            out.emplace_back(r.elements[i].str, std::stod(r.elements[i + 1].str));
        return out;
    }

    std::unique_ptr<RedisRankingStore> store_;
};

TEST_F(RankingStoreRedisTest, WindowsSumEachEventOnceAndLetGoOfOldBuckets) {
    Apply({Paid(1, kT0, {{7, 3, 2, 500}})}, kT0);
    for (const char* fam : {"h1", "d1", "d3", "d7"}) {
        EXPECT_EQ(Sum(fam, "sales", "all", 7), 2) << fam;
        EXPECT_EQ(Sum(fam, "revenue", "c3", 7), 500) << fam;
        EXPECT_GT(Sum(fam, "score", "all", 7), 0) << fam;
    }
    Apply({Paid(1, kT0, {{7, 3, 2, 500}})}, kT0 + 1000);  // delivered again: counted once
    EXPECT_EQ(Sum("h1", "sales", "all", 7), 2);
    RankingEvent cancel = Paid(2, kT0, {{7, 3, 2, 500}});
    cancel.sign = -1;
    Apply({Paid(3, kT0 + 5 * kMinute, {{7, 3, 1, 250}}), cancel}, kT0 + 5 * kMinute);
    EXPECT_EQ(Sum("h1", "sales", "all", 7), 1);

    Retire(kT0 + 30 * kMinute);  // still inside the hour
    EXPECT_EQ(Sum("h1", "sales", "all", 7), 1);
    // 61 minutes on, the first minute's bucket (+2 −2) left the hour; the 5th minute's (+1) not.
    Retire(kT0 + 61 * kMinute);
    EXPECT_EQ(Sum("h1", "sales", "all", 7), 1);
    Retire(kT0 + 66 * kMinute);
    EXPECT_EQ(Sum("h1", "sales", "all", 7), 0);
    EXPECT_EQ(Sum("h1", "revenue", "c3", 7), 0);
    EXPECT_EQ(Sum("d1", "sales", "all", 7), 1);  // the day's windows still hold it
    // A late event for a minute the hour has left: not in the hour, in the others.
    Apply({Paid(4, kT0, {{7, 3, 5, 100}})}, kT0 + 70 * kMinute);
    EXPECT_EQ(Sum("h1", "sales", "all", 7), 0);
    EXPECT_EQ(Sum("d1", "sales", "all", 7), 6);
    EXPECT_EQ(Sum("d7", "sales", "c3", 7), 6);
    // Nine days on, every window has let go, and the applied ids are forgotten.
    Retire(kT0 + 9 * kDay);
    for (const char* fam : {"h1", "d1", "d3", "d7"}) {
        EXPECT_EQ(Sum(fam, "sales", "all", 7), 0) << fam;
        EXPECT_EQ(Sum(fam, "score", "all", 7), 0) << fam;
    }
    EXPECT_EQ(Must(MakeArgs("ZCARD", "rank:{rank}:applied")).integer, 0);
}

TEST_F(RankingStoreRedisTest, ALargeBucketIsRetiredInManySmallSteps) {
    std::vector<RankingLine> lines;
    for (int p = 1; p <= 3000; ++p) lines.push_back({p, 0, 1, 100});
    Apply({Paid(10, kT0, lines)}, kT0);
    EXPECT_EQ(Must(MakeArgs("ZCARD", "rank:{rank}:w:h1:sales:all")).integer, 3000);
    int steps = Retire(kT0 + 2 * kHour);
    // 3 metrics × 3000 members in the minute's bucket (the views metric has none), kRetireChunk
    // a step.
    EXPECT_GE(steps, 3 * 3000 / RedisRankingStore::kRetireChunk);
    EXPECT_EQ(Must(MakeArgs("ZCARD", "rank:{rank}:w:h1:sales:all")).integer, 0);
    EXPECT_EQ(Must(MakeArgs("ZCARD", "rank:{rank}:w:d1:sales:all")).integer, 3000);
}

TEST_F(RankingStoreRedisTest, TheLandmarkMovesOnExactlyAndAppliesWaitMeanwhile) {
    // A one-minute half-life: weights reach 2^256 (the rebase is due) 256 minutes on.
    const RankingWeights weights{.half_life_ms = kMinute};
    store_ = std::make_unique<RedisRankingStore>(client_, weights);
    std::vector<RankingLine> lines;
    for (int p = 1; p <= 250; ++p) lines.push_back({p, 3, p % 7 + 1, 100});
    Apply({Paid(1, kT0, lines), Paid(2, kT0 + 30 * kMinute, {{7, 3, 2, 500}})}, kT0 + 30 * kMinute);
    const auto landmark = std::stoll(Must(MakeArgs("GET", "rank:{rank}:landmark")).str);
    const std::vector<std::string> keys = {
        "rank:{rank}:w:h1:score:all", "rank:{rank}:w:d7:score:c3",
        "rank:{rank}:b:d1:" + std::to_string(kT0 / kHour) + ":score:all"};
    std::map<std::string, std::vector<std::pair<std::string, double>>> before;
    for (const auto& k : keys) before[k] = Members(k);
    ASSERT_EQ(before[keys[0]].size(), 250u);

    const EpochMs later = kT0 + 300 * kMinute;  // 300 half-lives on: due
    const auto week = *FindRankingWindow("7d");
    auto ranked_before = Run(store_->Collect(week, 3, 100, later));
    ASSERT_TRUE(ranked_before) << ranked_before.error().message;
    auto refused = Run(store_->Apply({Paid(3, later, {{9, 3, 1, 100}})}, later));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);

    // Step by step, each by a store of its own (as when the refresh lease changes hands).
    int steps = 0;
    for (bool more = true; more; ++steps) {
        RedisRankingStore other(client_, weights);
        auto r = Run(other.Rebase(later, 1));
        ASSERT_TRUE(r) << r.error().message;
        more = *r;
        if (steps == 1) {  // meanwhile applies wait and retiring does nothing
            EXPECT_FALSE(Run(store_->Apply({Paid(3, later, {{9, 3, 1, 100}})}, later)));
            auto retired = Run(store_->Retire(later, 1));
            ASSERT_TRUE(retired);
            EXPECT_FALSE(*retired);
            EXPECT_EQ(Sum("h1", "sales", "all", 7), 1 + 2);
        }
    }
    // Every score key held at least 250 members, moved kRebaseChunk a step.
    EXPECT_GT(steps, 3 * 250 / RedisRankingStore::kRebaseChunk);
    const auto moved = std::stoll(Must(MakeArgs("GET", "rank:{rank}:landmark")).str);
    const auto shift = (moved - landmark) / kMinute;
    EXPECT_EQ((moved - landmark) % kMinute, 0);
    EXPECT_GE(shift, 256);
    EXPECT_LE(moved, later);
    EXPECT_EQ(Must(MakeArgs("EXISTS", "rank:{rank}:rebase")).integer, 0);
    // Each score divided by exactly 2^shift; a bucket keeps its time to live.
    for (const auto& k : keys) {
        auto after = Members(k);
        ASSERT_EQ(after.size(), before[k].size()) << k;
        for (std::size_t i = 0; i < after.size(); ++i) {
            EXPECT_EQ(after[i].first, before[k][i].first) << k;
            EXPECT_EQ(after[i].second, std::ldexp(before[k][i].second, -static_cast<int>(shift)))
                << k;
        }
    }
    EXPECT_GT(Must(MakeArgs("PTTL", keys[2])).integer, 0);
    // The rankings read the same; a rebase then is no longer due, and applies go on.
    auto ranked_after = Run(store_->Collect(week, 3, 100, later));
    ASSERT_TRUE(ranked_after) << ranked_after.error().message;
    for (std::size_t m = 0; m < ranked_after->size(); ++m) {
        const auto& a = (*ranked_after)[m].items;
        const auto& b = (*ranked_before)[m].items;
        ASSERT_EQ(a.size(), b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            EXPECT_EQ(a[i].product_id, b[i].product_id);
            EXPECT_NEAR(a[i].score, b[i].score, 1e-12 * std::abs(b[i].score));
        }
    }
    auto again = Run(store_->Rebase(later, 1));
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
    Apply({Paid(3, later, {{9, 3, 1, 100}})}, later);
    auto ranked = Run(store_->Collect(*FindRankingWindow("1h"), 3, 100, later));
    ASSERT_TRUE(ranked);
    // A sale of now weighs 1 × 2^((its minute's start − now) / half-life); the earlier ones,
    // 270 half-lives and more before, next to nothing: product 9 leads the score.
    const auto& top = (*ranked)[3].items.at(0);
    EXPECT_EQ(top.product_id, 9);
    EXPECT_NEAR(top.score,
                std::exp2(static_cast<double>(later / kMinute * kMinute - later) / kMinute),
                1e-9 * top.score);
}

}  // namespace
}  // namespace joopang::redis
