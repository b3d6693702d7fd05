#pragma once
#include <array>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/ranking_event.hpp"
#include "common/error.hpp"
#include "domain/ranking.hpp"
#include "domain/ranking_tally.hpp"

namespace joopang {

/// A ranking as published: the top products by one metric, with their other figures and names,
/// as of `generated_at` (scores decayed to that moment).
struct PublishedRanking {
    EpochMs generated_at = 0;
    std::vector<ProductTally> items;
};

/// The four rankings of one window and scope, in kRankingMetrics order.
using RankingSet = std::array<PublishedRanking, 4>;

/// A window and a scope (0: all products, else one category) whose sums changed.
struct RankingScope {
    std::string window;  // RankingWindow::name
    std::int64_t category_id = 0;
    bool operator==(const RankingScope&) const = default;
};

/// Where the rankings' counts live (Redis): per window, the buckets and the window's running
/// sums, for all products and per category; and the published rankings built from them.
class RankingStore {
  public:
    virtual ~RankingStore() = default;
    /// Applies order events and view batches: each once (by outbox id, or by the view batch's
    /// key), however often it comes.
    virtual boost::asio::awaitable<Status> Apply(const std::vector<RankingEvent>& events,
                                                 EpochMs now) = 0;
    /// Takes the buckets that left their window at `now` out of the window sums, in steps that
    /// each block the store only briefly, at most `max_steps` of them; returns whether work
    /// remains. One caller at a time (a leased job).
    virtual boost::asio::awaitable<Result<bool>> Retire(EpochMs now, int max_steps) = 0;
    /// Moves the decay landmark on when the score weights near a double's range (once in many
    /// half-lives), rescaling every score exactly, in steps that each block the store only
    /// briefly, at most `max_steps` of them; returns whether that is still under way. Meanwhile
    /// Apply answers kUnavailable and Retire does nothing. One caller at a time (a leased job).
    virtual boost::asio::awaitable<Result<bool>> Rebase(EpochMs now, int max_steps) = 0;

    /// Takes (and forgets) up to `max` window/scope pairs whose sums changed since last taken.
    virtual boost::asio::awaitable<Result<std::vector<RankingScope>>> TakeChanged(
        std::size_t max) = 0;
    /// Every category that has counts.
    virtual boost::asio::awaitable<Result<std::vector<std::int64_t>>> Categories() = 0;
    /// Per metric, the first `limit` products of a window's sums (ties by lower id, values above
    /// zero only), each with all its figures, scores decayed to `now`; names left empty.
    virtual boost::asio::awaitable<Result<RankingSet>> Collect(const RankingWindow& window,
                                                               std::int64_t category_id,
                                                               std::size_t limit,
                                                               EpochMs now) = 0;
    /// Publishes a window and scope's rankings under their fixed keys, replacing the previous
    /// ones at once, kept for `ttl_ms`.
    virtual boost::asio::awaitable<Status> Publish(const RankingWindow& window,
                                                   std::int64_t category_id,
                                                   const RankingSet& set,
                                                   EpochMs ttl_ms) = 0;
};

/// The read side of the published rankings, on the request path.
class RankingBoard {
  public:
    virtual ~RankingBoard() = default;
    /// The published ranking, nullopt when there is none (an Error when the store is down).
    virtual boost::asio::awaitable<Result<std::optional<PublishedRanking>>> Read(
        const RankingWindow& window, RankingMetric metric, std::int64_t category_id) = 0;
};

/// The rankings' figures computed from the database (the fallback, and `/products/top`).
/// Blocking; thread-safe.
class RankingHistory {
  public:
    virtual ~RankingHistory() = default;
    /// Per product and bucket of `window`'s family, from `from` on: the lines of orders that are
    /// paid (and not canceled), and the views; only `category_id`'s products unless it is 0.
    virtual Result<std::vector<BucketTally>> Buckets(const RankingWindow& window,
                                                     EpochMs from,
                                                     std::int64_t category_id) = 0;
    /// Product names by id (unknown ids are left out).
    virtual Result<std::vector<std::pair<std::int64_t, std::string>>> Names(
        const std::vector<std::int64_t>& ids) = 0;
    /// The `limit` products that sold the most since `since` (quantity; ties by lower id).
    virtual Result<std::vector<ProductTally>> TopSellers(EpochMs since, std::size_t limit) = 0;
};

}  // namespace joopang
