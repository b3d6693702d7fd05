// The ranking read use case with in-memory ports: a published ranking is answered from the board
// (cut to the limit) and reused for 200 ms; a missing one, or a board that fails, from the
// database; after failures in a row the breaker skips the board without calling it, and closes
// once a trial succeeds; database answers are reused for a moment.
#include "app/ranking_reader.hpp"

#include <gtest/gtest.h>

#include "async_test_support.hpp"
#include "fake_ranking_history.hpp"

namespace joopang {
namespace {

class FakeBoard final : public RankingBoard {
  public:
    int calls = 0;
    bool down = false;
    std::optional<PublishedRanking> published;
    boost::asio::awaitable<Result<std::optional<PublishedRanking>>> Read(const RankingWindow&,
                                                                         RankingMetric,
                                                                         std::int64_t) override {
        ++calls;
        if (down) co_return Error::Unavailable("redis down");
        co_return published;
    }
};

using FakeHistory = test_support::FakeRankingHistory;

class RankingReaderTest : public testing::Test {
  protected:
    RankingAnswer Read(std::size_t limit = 10) {
        RankingQuery q{*FindRankingWindow("1h"), RankingMetric::kSales, 0, limit};
        auto r = test_support::RunToEnd(reader.Read(q));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : RankingAnswer{};
    }

    EpochMs now = 100 * 3'600'000;
    FakeBoard board;
    FakeHistory history;
    BlockingPool pool{1};
    RankingReader reader{board,
                         history,
                         pool,
                         RankingWeights{},
                         RankingReader::Settings{.failures_to_open = 2, .open_ms = 1000},
                         [this] { return now; }};
};

TEST_F(RankingReaderTest, APublishedRankingIsAnsweredFromTheBoardCutToTheLimit) {
    board.published = PublishedRanking{now - 300,
                                       {{.product_id = 4, .sales = 9},
                                        {.product_id = 2, .sales = 5},
                                        {.product_id = 7, .sales = 1}}};
    auto a = Read(2);
    EXPECT_FALSE(a.from_database);
    EXPECT_EQ(a.generated_at, now - 300);
    ASSERT_EQ(a.items.size(), 2u);
    EXPECT_EQ(a.items[1].product_id, 2);
    EXPECT_EQ(history.bucket_queries, 0);
}

TEST_F(RankingReaderTest, APublishedRankingReadIsReusedFor200ms) {
    board.published = PublishedRanking{now, {{.product_id = 4, .sales = 9}}};
    Read();
    now += 199;
    board.published->items[0].sales = 10;
    EXPECT_EQ(Read().items[0].sales, 9);
    EXPECT_EQ(board.calls, 1);
    now += 1;
    EXPECT_EQ(Read().items[0].sales, 10);
    EXPECT_EQ(board.calls, 2);
}

TEST_F(RankingReaderTest, NothingPublishedIsAnsweredFromTheDatabaseAndReusedForAMoment) {
    history.buckets = {{.product_id = 3, .bucket = now / 60'000, .sales = 2},
                       {.product_id = 5, .bucket = now / 60'000, .sales = 6}};
    auto a = Read();
    EXPECT_TRUE(a.from_database);
    ASSERT_EQ(a.items.size(), 2u);
    EXPECT_EQ(a.items[0].product_id, 5);
    EXPECT_EQ(a.items[0].name, "product 5");
    now += 500;
    Read();
    EXPECT_EQ(history.bucket_queries, 1);  // reused
    now += 600;
    Read();
    EXPECT_EQ(history.bucket_queries, 2);  // a second old: computed again
}

TEST_F(RankingReaderTest, ABoardThatFailsIsSkippedByTheBreakerUntilATrialSucceeds) {
    board.down = true;
    Read();
    Read();
    EXPECT_EQ(board.calls, 2);
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(Read().from_database);
    EXPECT_EQ(board.calls, 2);  // open: not even tried
    board.down = false;
    board.published = PublishedRanking{now, {{.product_id = 1, .sales = 1}}};
    now += 1000;
    EXPECT_FALSE(Read().from_database);  // the trial succeeds: closed
    now += 200;
    EXPECT_FALSE(Read().from_database);
    EXPECT_EQ(board.calls, 4);
    EXPECT_FALSE(reader.breaker_open());
}

}  // namespace
}  // namespace joopang
