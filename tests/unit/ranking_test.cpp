// The rankings' time model and the order events the updater reads.
#include "domain/ranking.hpp"

#include <gtest/gtest.h>

#include "app/ranking_event.hpp"

namespace joopang {
namespace {

TEST(RankingWindows, AreWholeBucketsUpToNow) {
    auto h = *FindRankingWindow("1h");
    EXPECT_EQ(h.bucket_ms, 60'000);
    EXPECT_EQ(h.buckets, 60);
    const EpochMs now = 1'700'000'123'456;
    EXPECT_EQ(h.BucketOf(now), now / 60'000);
    EXPECT_EQ(h.LowestBucket(now), now / 60'000 - 59);
    EXPECT_EQ(FindRankingWindow("24h")->bucket_ms, 3'600'000);
    EXPECT_EQ(FindRankingWindow("7d")->buckets, 7);
    EXPECT_FALSE(FindRankingWindow("2h"));
    // Each window has buckets of its own, kept longer than the window.
    for (const auto& w : RankingWindows()) EXPECT_GT(w.ttl_ms, w.bucket_ms * w.buckets);
    EXPECT_NE(FindRankingWindow("3d")->family, FindRankingWindow("7d")->family);
}

TEST(RankingWeights, ParseAnySubsetAndRefuseTheRest) {
    auto w = ParseRankingWeights("sales=2,views=0.5");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->sales, 2.0);
    EXPECT_EQ(w->revenue, 0.0);
    EXPECT_EQ(w->views, 0.5);
    for (const char* bad : {"sales", "sales=", "sales=-1", "sales=x", "likes=1", "sales=nan"})
        EXPECT_FALSE(ParseRankingWeights(bad)) << bad;
}

TEST(OrderEvents, PaidAndCanceledOrdersParseWithTheSaleTime) {
    const char* payload =
        R"({"orderId":9,"userId":3,"at":2000,"paidAt":1000,"payableCents":2500,"items":[)"
        R"({"productId":5,"categoryId":2,"productItemId":51,"quantity":2,"amountCents":2500}]})";
    auto paid = ParseOrderEvent(77, "order-paid", payload);
    ASSERT_TRUE(paid);
    EXPECT_EQ(paid->outbox_id, 77);
    EXPECT_EQ(paid->sign, 1);
    EXPECT_EQ(paid->at, 1000);  // the sale's time, not the event's
    ASSERT_EQ(paid->lines.size(), 1u);
    EXPECT_EQ(paid->lines[0].product_id, 5);
    EXPECT_EQ(paid->lines[0].category_id, 2);
    EXPECT_EQ(paid->lines[0].quantity, 2);
    EXPECT_EQ(paid->lines[0].amount_cents, 2500);
    EXPECT_EQ(ParseOrderEvent(78, "order-canceled", payload)->sign, -1);
}

TEST(OrderEvents, AnythingElseIsRefused) {
    EXPECT_FALSE(ParseOrderEvent(1, "order-shipped", R"({"at":1,"items":[]})"));
    EXPECT_FALSE(ParseOrderEvent(1, "order-paid", "not json"));
    EXPECT_FALSE(ParseOrderEvent(1, "order-paid", R"({"items":[]})"));  // no time
    EXPECT_FALSE(ParseOrderEvent(0, "order-paid", R"({"at":1,"items":[]})"));
    EXPECT_FALSE(ParseOrderEvent(1, "order-paid", R"({"at":1,"items":[{"productId":1}]})"));
    // An event of an older relay without categories: no category.
    auto old = ParseOrderEvent(
        1, "order-paid", R"({"at":1,"items":[{"productId":1,"quantity":1,"amountCents":5}]})");
    ASSERT_TRUE(old);
    EXPECT_EQ(old->lines[0].category_id, 0);
}

}  // namespace
}  // namespace joopang
