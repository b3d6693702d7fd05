#pragma once
/// The ranking refresh (SPEC §5), one leased job run at a time: move the decay landmark on when
/// it is due (and do nothing else until that is done), retire the buckets that left their
/// windows, then publish the rankings whose sums changed — per window and scope, the top of
/// each metric with product names — under their fixed keys. Every ranking is published again
/// now and then whether it changed or not, so that its key (which has a TTL) stays while the
/// refresh runs and the first run after a lease changes hands publishes everything.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/ports/ranking_store.hpp"
#include "common/blocking_pool.hpp"

namespace joopang {

struct RefreshReport {
    int rebase_steps = 0;
    bool rebasing = false;  // true: the landmark is still moving; nothing retired or published
    int retire_steps = 0;
    bool retire_done = true;    // false: the rest is left for the next run
    std::size_t published = 0;  // window/scope pairs (four rankings each)
};

class RankingPublisher {
  public:
    struct Settings {
        std::size_t top = 100;
        EpochMs ttl_ms = 60'000;             // of a published key
        EpochMs republish_ms = 15'000;       // every ranking, changed or not
        std::size_t changed_per_run = 1000;  // taken from the store's list per run
        EpochMs name_ttl_ms = 60'000;        // how long a product name is reused
        /// Retiring a bucket is paced: a pause after each step lets every other client in
        /// before the next (two steps back to back would make a command wait for both), and a
        /// run retires for at most `retire_budget` before it publishes.
        std::chrono::microseconds step_pause{1000};
        std::chrono::milliseconds retire_budget{400};
        /// Moving the decay landmark (once in 256 half-lives) is paced the same way; while it
        /// lasts, nothing else is done, so a run may spend this long on it.
        std::chrono::milliseconds rebase_budget{800};
    };
    RankingPublisher(RankingStore& store,
                     RankingHistory& history,
                     BlockingPool& pool,
                     Settings settings);

    boost::asio::awaitable<Result<RefreshReport>> Refresh(EpochMs now);

  private:
    /// Calls `step` (one bounded store call; true while work remains) until it is done or
    /// `budget` is spent, pausing after each; counts the calls in `steps`.
    boost::asio::awaitable<Result<bool>> Paced(
        const std::function<boost::asio::awaitable<Result<bool>>()>& step,
        std::chrono::milliseconds budget,
        int& steps);
    boost::asio::awaitable<Status> AttachNames(RankingSet& set, EpochMs now);

    RankingStore& store_;
    RankingHistory& history_;
    BlockingPool& pool_;
    Settings settings_;
    EpochMs last_full_ = 0;
    std::vector<RankingScope> pending_;  // taken from the store, not yet published
    struct Name {
        std::string text;
        EpochMs fetched_at = 0;
    };
    std::unordered_map<std::int64_t, Name> names_;
};

}  // namespace joopang
