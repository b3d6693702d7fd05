#pragma once
/// Reading a ranking (SPEC §5): the published ranking from the store (one read of a fixed key),
/// else — store down, or nothing published for it — computed from the database with the same
/// windows and weights. A circuit breaker keeps a down store from costing each request a timeout;
/// database answers are kept a moment, so that a crowd reading one ranking while the store is
/// down costs the database one query per ranking and second. A published ranking read from the
/// store is likewise reused by this instance for a fifth of a second (the refresh publishes once
/// a second): a crowd reading one ranking costs the store a read per ranking and 200 ms.

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "app/ports/ranking_store.hpp"
#include "common/blocking_pool.hpp"
#include "common/circuit_breaker.hpp"

namespace joopang {

struct RankingQuery {
    RankingWindow window;
    RankingMetric metric = RankingMetric::kScore;
    std::int64_t category_id = 0;  // 0: all products
    std::size_t limit = 10;
};

struct RankingAnswer {
    EpochMs generated_at = 0;
    bool from_database = false;
    std::vector<ProductTally> items;  // at most the query's limit, in rank order
};

class RankingReader {
  public:
    struct Settings {
        int failures_to_open = 2;
        EpochMs open_ms = 1000;
        EpochMs database_answer_ms = 1000;  // how long a database answer is reused
        EpochMs published_answer_ms = 200;  // how long a published ranking read is reused
        std::size_t top = 100;              // the most a ranking lists
    };
    RankingReader(RankingBoard& board,
                  RankingHistory& history,
                  BlockingPool& pool,
                  RankingWeights weights,
                  Settings settings,
                  std::function<EpochMs()> now = NowMs);

    boost::asio::awaitable<Result<RankingAnswer>> Read(const RankingQuery& query);
    /// The products that sold the most over the last `days` days, from the database (the
    /// original `/products/top`; its answers are kept a moment too).
    boost::asio::awaitable<Result<RankingAnswer>> TopSellers(int days, std::size_t limit);
    bool breaker_open() const { return breaker_.open(); }

  private:
    using Key = std::tuple<std::string, int, std::int64_t>;
    /// The whole top of a ranking from the database (blocking).
    Result<RankingAnswer> Compute(const RankingQuery& query, EpochMs now);
    /// A database answer kept less than database_answer_ms under `key`, else `compute()`'s.
    template <class F>
    Result<RankingAnswer> Reused(const Key& key, EpochMs now, F compute);

    RankingBoard& board_;
    RankingHistory& history_;
    BlockingPool& pool_;
    RankingWeights weights_;
    Settings settings_;
    std::function<EpochMs()> now_;
    CircuitBreaker breaker_;
    std::mutex answers_mu_;
    std::map<Key, RankingAnswer> answers_;  // from the database, by generated_at
    struct Published {
        EpochMs read_at = 0;
        RankingAnswer answer;
    };
    std::mutex published_mu_;
    std::map<Key, Published> published_;
};

}  // namespace joopang
