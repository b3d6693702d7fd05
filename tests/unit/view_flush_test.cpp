// The view flush with in-memory ports: counts go to the database first, then to the rankings; a
// rankings store that is unavailable keeps its batches waiting, in order, for the next run; a batch
// the store refuses outright is dropped instead of holding up the ones behind it.
#include "app/view_flush.hpp"

#include <gtest/gtest.h>

#include "async_test_support.hpp"

namespace joopang {
namespace {

class FakeCatalog final : public CatalogRepository {
  public:
    std::int64_t views_written = 0;
    Result<Category> CreateCategory(const std::string&, std::optional<std::int64_t>) override {
        return Error::Internal("unused");
    }
    Result<std::vector<Category>> ListCategories() override { return Error::Internal("unused"); }
    Result<Product> CreateProduct(const NewProduct&) override { return Error::Internal("unused"); }
    Result<Product> UpdateProduct(std::int64_t, const ProductUpdate&) override {
        return Error::Internal("unused");
    }
    Result<Product> FindProduct(std::int64_t) override { return Error::Internal("unused"); }
    Result<Page<Product>> ListProducts(const ProductQuery&) override {
        return Error::Internal("unused");
    }
    Status AddViews(EpochMs, const std::vector<std::pair<std::int64_t, std::int64_t>>& v) override {
        for (const auto& [product, n] : v) views_written += n;
        return Status{};
    }
};

/// Answers each Apply with the next scripted outcome (then success), recording the batches taken.
class ScriptedStore final : public RankingStore {
  public:
    std::vector<Status> outcomes;
    std::vector<std::string> applied;  // the batches' keys, in the order taken
    boost::asio::awaitable<Status> Apply(const std::vector<RankingEvent>& events,
                                         EpochMs) override {
        Status st;
        if (!outcomes.empty()) {
            st = outcomes.front();
            outcomes.erase(outcomes.begin());
        }
        if (st)
            for (const auto& e : events) applied.push_back(e.view_batch);
        co_return st;
    }
    boost::asio::awaitable<Result<bool>> Retire(EpochMs, int) override { co_return false; }
    boost::asio::awaitable<Result<bool>> Rebase(EpochMs, int) override { co_return false; }
    boost::asio::awaitable<Result<std::vector<RankingScope>>> TakeChanged(std::size_t) override {
        co_return std::vector<RankingScope>{};
    }
    boost::asio::awaitable<Result<std::vector<std::int64_t>>> Categories() override {
        co_return std::vector<std::int64_t>{};
    }
    boost::asio::awaitable<Result<RankingSet>> Collect(const RankingWindow&,
                                                       std::int64_t,
                                                       std::size_t,
                                                       EpochMs) override {
        co_return RankingSet{};
    }
    boost::asio::awaitable<Status> Publish(const RankingWindow&,
                                           std::int64_t,
                                           const RankingSet&,
                                           EpochMs) override {
        co_return Status{};
    }
};

class ViewFlushTest : public testing::Test {
  protected:
    Status Flush() { return test_support::RunToEnd(flush.Flush()); }

    ViewCounter views;
    FakeCatalog catalog;
    ScriptedStore store;
    BlockingPool pool{1};
    ViewFlush flush{views, catalog, store, pool, "test", [] { return EpochMs{1000}; }};
};

TEST_F(ViewFlushTest, BatchesWaitInOrderWhileTheStoreIsUnavailable) {
    views.Record(7, 3);
    store.outcomes = {Error::Unavailable("redis down")};
    EXPECT_FALSE(Flush());
    EXPECT_EQ(catalog.views_written, 1);  // the database has them already
    EXPECT_EQ(flush.waiting(), 1u);
    views.Record(8, 3);
    EXPECT_TRUE(Flush());
    EXPECT_EQ(catalog.views_written, 2);
    EXPECT_EQ(store.applied, (std::vector<std::string>{"test:1000:0", "test:1000:1"}));
    EXPECT_EQ(flush.waiting(), 0u);
}

TEST_F(ViewFlushTest, ABatchTheStoreRefusesDoesNotHoldUpTheOthers) {
    views.Record(7, 3);
    store.outcomes = {Error::Unavailable("redis down")};
    EXPECT_FALSE(Flush());
    views.Record(8, 3);
    store.outcomes = {Error::Internal("ranking-apply: script error")};
    EXPECT_TRUE(Flush());
    EXPECT_EQ(store.applied, (std::vector<std::string>{"test:1000:1"}));
    EXPECT_EQ(flush.waiting(), 0u);
}

}  // namespace
}  // namespace joopang
