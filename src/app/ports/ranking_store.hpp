#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <vector>

#include "app/ranking_event.hpp"
#include "common/error.hpp"
#include "domain/ranking.hpp"

namespace joopang {

/// Where the rankings' counts live (Redis): per window, the buckets and the window's running
/// sums, for all products and per category.
class RankingStore {
  public:
    virtual ~RankingStore() = default;
    /// Applies order events: each outbox id once, however often it comes.
    virtual boost::asio::awaitable<Status> Apply(const std::vector<RankingEvent>& events,
                                                 EpochMs now) = 0;
    /// Takes the buckets that left their window at `now` out of the window sums, in steps that
    /// each block the store only briefly; returns the steps taken. One caller at a time (a
    /// leased job).
    virtual boost::asio::awaitable<Result<int>> Retire(EpochMs now) = 0;
};

}  // namespace joopang
