// The ranking refresh use case with an in-memory store: while the store is moving its decay
// landmark on, a refresh does nothing else (no retiring, no publishing from half-moved sums);
// once that is done it retires, then publishes every window and scope on its first run and the
// changed ones after, with product names.
#include "app/ranking_publisher.hpp"

#include <gtest/gtest.h>

#include "async_test_support.hpp"
#include "fake_ranking_history.hpp"

namespace joopang {
namespace {

class FakeStore final : public RankingStore {
  public:
    int rebase_steps_left = 0;
    int rebase_calls = 0, retire_calls = 0;
    std::vector<RankingScope> changed;
    std::vector<std::pair<std::string, std::int64_t>> published;
    std::vector<std::string> first_names;

    boost::asio::awaitable<Status> Apply(const std::vector<RankingEvent>&, EpochMs) override {
        co_return Status{};
    }
    boost::asio::awaitable<Result<bool>> Retire(EpochMs, int) override {
        ++retire_calls;
        co_return false;
    }
    boost::asio::awaitable<Result<bool>> Rebase(EpochMs, int) override {
        ++rebase_calls;
        if (rebase_steps_left > 0) --rebase_steps_left;
        co_return rebase_steps_left > 0;
    }
    boost::asio::awaitable<Result<std::vector<RankingScope>>> TakeChanged(std::size_t) override {
        co_return std::exchange(changed, {});
    }
    boost::asio::awaitable<Result<std::vector<std::int64_t>>> Categories() override {
        co_return std::vector<std::int64_t>{5};
    }
    boost::asio::awaitable<Result<RankingSet>> Collect(const RankingWindow&,
                                                       std::int64_t,
                                                       std::size_t,
                                                       EpochMs now) override {
        RankingSet set;
        for (auto& r : set) r = {now, {{.product_id = 3, .sales = 1}}};
        co_return set;
    }
    boost::asio::awaitable<Status> Publish(const RankingWindow& window,
                                           std::int64_t category_id,
                                           const RankingSet& set,
                                           EpochMs) override {
        published.emplace_back(std::string(window.name), category_id);
        first_names.push_back(set[0].items.at(0).name);
        co_return Status{};
    }
};

using FakeHistory = test_support::FakeRankingHistory;

class RankingPublisherTest : public testing::Test {
  protected:
    RefreshReport Refresh(EpochMs now) {
        auto r = test_support::RunToEnd(publisher.Refresh(now));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : RefreshReport{};
    }

    FakeStore store;
    FakeHistory history;
    BlockingPool pool{1};
    // A budget so short that one rebase step spends it.
    RankingPublisher publisher{
        store, history, pool,
        RankingPublisher::Settings{.step_pause = std::chrono::microseconds(0),
                                   .rebase_budget = std::chrono::milliseconds(0)}};
};

TEST_F(RankingPublisherTest, NothingIsRetiredOrPublishedWhileTheLandmarkMoves) {
    store.rebase_steps_left = 3;
    auto first = Refresh(1000);
    EXPECT_TRUE(first.rebasing);
    EXPECT_EQ(first.rebase_steps, 1);
    EXPECT_EQ(Refresh(2000).rebase_steps, 1);
    EXPECT_EQ(store.retire_calls, 0);
    EXPECT_TRUE(store.published.empty());

    auto done = Refresh(3000);  // the last step: then the run goes on as usual
    EXPECT_FALSE(done.rebasing);
    EXPECT_EQ(store.retire_calls, 1);
    // The first run publishes every window for all products and for each category.
    EXPECT_EQ(done.published, RankingWindows().size() * 2);
    EXPECT_EQ(store.first_names.at(0), "product 3");
}

TEST_F(RankingPublisherTest, AfterTheFirstRunOnlyChangedRankingsArePublished) {
    Refresh(1000);
    store.published.clear();
    store.changed = {{"24h", 5}, {"24h", 5}, {"1h", 0}};
    auto report = Refresh(2000);
    EXPECT_EQ(report.published, 2u);
    std::sort(store.published.begin(), store.published.end());
    EXPECT_EQ(store.published,
              (std::vector<std::pair<std::string, std::int64_t>>{{"1h", 0}, {"24h", 5}}));
    EXPECT_EQ(store.rebase_calls, 2);
}

}  // namespace
}  // namespace joopang
