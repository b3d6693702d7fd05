// The ranking store on a real redis-server, with the clock in the test's hands: events are
// summed into every window once, a bucket leaves a window's sum when the window moves past it
// (late events for it too), and retiring a large bucket takes many small steps.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace joopang::redis
