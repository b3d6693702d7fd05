#pragma once
/// Coalesces coupon-issue requests: those one I/O thread receives for one template in one turn
/// of its event loop go to Redis as one call of the issue script, which decides each of them in
/// arrival order, atomically (src/infra/redis/lua/coupon_issue.lua). Most of what a lone request
/// costs Redis is the script call itself, and the two-core machine this runs on shares Redis's
/// core with the load (docs/benchmarks.md). No request waits for a batch to fill: a batch goes
/// out as soon as the requests already received have been read, or when it holds `max_batch` —
/// unless `max_in_flight` batches of its thread and template are at Redis already: then it goes
/// as soon as one of them is answered, with every request that joined it meanwhile.
/// Once a template is sold out, each thread answers the users it has already heard about from
/// memory (SoldOutMemo) for up to `sold_out_memo` after a call confirmed the sell-out.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "app/ports/coupon_gate.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class CouponIssueBatcher {
  public:
    /// The most requests one script call carries: a batch of wins holds Redis for its whole run
    /// (~5 µs per win), and every other client of that Redis waits meanwhile.
    static constexpr std::size_t kDefaultMaxBatch = 128;
    /// The most a batch may be set to: a win's request id numbers it within its call's stream
    /// entry in three decimal digits (see coupon_codec::RequestIdOf).
    static constexpr std::size_t kMaxBatch = 1000;
    /// Batches of one thread and template at Redis at once. Two keep Redis busy (one runs while
    /// the answers of the other are handed out) without a call for every turn of the event loop:
    /// fresh 10-s drops under wrk gave more requests per second than with no limit in 14 of 15
    /// interleaved pairs (about +7 %), p99 within noise; one alone left Redis idle between calls
    /// (docs/benchmarks.md §6, --issue-in-flight).
    static constexpr std::size_t kDefaultMaxInFlight = 2;
    /// How long after a script call found a template sold out its answers are given from memory:
    /// the longest a pause, an end or a counter restore made by another process can go unseen
    /// (this process's own are seen at once, see ForgetSoldOut). 0 = every request asks Redis.
    static constexpr std::chrono::milliseconds kDefaultSoldOutMemo{50};
    /// A template's sold-out memory (its memos and roster) is dropped once it has gone unused
    /// this long, so that past drops do not hold memory for the life of the process.
    static constexpr std::chrono::milliseconds kDefaultSoldOutIdle{10'000};

    CouponIssueBatcher(std::shared_ptr<Client> client,
                       std::int64_t rate_limit_per_second,
                       std::size_t max_batch = kDefaultMaxBatch,
                       std::size_t max_in_flight = kDefaultMaxInFlight,
                       std::chrono::milliseconds sold_out_memo = kDefaultSoldOutMemo,
                       std::chrono::milliseconds sold_out_idle = kDefaultSoldOutIdle);
    ~CouponIssueBatcher();
    CouponIssueBatcher(const CouponIssueBatcher&) = delete;
    CouponIssueBatcher& operator=(const CouponIssueBatcher&) = delete;

    /// The decision for one request, from the batch it joins on the calling thread.
    Awaitable<Result<IssueDecision>> Issue(std::int64_t template_id, std::int64_t user_id);

    /// A win is answered only once `replicas` Redis replicas have its writes (WAIT, sent with
    /// each script call on its connection, at most `timeout`); one not confirmed in time is
    /// answered 503 with its outcome unknown. 0 (the default): once the master decided. Call
    /// before the first Issue().
    void RequireReplicas(int replicas, std::chrono::milliseconds timeout);

    /// Drops every sold-out answer remembered so far; called after this process changes a
    /// template's metadata or counters in Redis, so that its next request sees the change.
    void ForgetSoldOut();

    /// Sold-out memories held: (I/O thread, template) pairs, and templates with a roster.
    std::pair<std::size_t, std::size_t> SoldOutMemories() const;

    struct State;  // shared with the batches in flight (public for the .cpp's helpers)

  private:
    std::shared_ptr<State> state_;
};

}  // namespace joopang::redis
