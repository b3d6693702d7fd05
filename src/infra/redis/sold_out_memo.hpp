#pragma once
/// What one I/O thread remembers of a sold-out template's answers, so that the crowd that keeps
/// pressing "get coupon" after the last one is gone hears 409 or 410 without a Redis call.
///
/// Once a template's stock is zero, a user's answer can only be 409 (at the per-user limit) or
/// 410 (not), and neither can change while the stock stays zero: no one wins, so no count moves.
/// Only a restore of Redis's counters (the reconciliation job's repair) can raise the stock or a
/// count again, and each restore bumps the template's `restores` counter in Redis (the
/// generation). So the memo keeps, per user, the last answer the issue script gave it while the
/// template was sold out, and answers from it while
///  - a script call sent at most `ttl` ago found the template sold out (a status change or a
///    restore by another process is seen within `ttl`),
///  - every call since found it sold out, under the same generation, and
///  - the process's own epoch has not moved (this process changed no template since: its own
///    pause, end or restore is seen at once).
/// Past half of `ttl`, one request in each half-`ttl` goes to Redis to renew it.
/// A roster (every user at the per-user limit, read from Redis once the template sold out under
/// this generation) lets it answer users it has never heard about too: 409 if listed, else 410.
/// Without one, such users go to Redis and are remembered from its answer.
/// Memo answers count against the per-user rate limit here, per memo (one per I/O thread and
/// template), the way the script counts them in Redis.
/// Pure logic: the caller passes the time and the epoch (CouponIssueBatcher owns one per thread
/// and template).

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "app/ports/coupon_gate.hpp"

namespace joopang::redis {

class SoldOutMemo {
  public:
    using Clock = std::chrono::steady_clock;
    /// The users holding the per-user limit of a sold-out template, as of one generation.
    using Roster = boost::unordered_flat_set<std::int64_t>;

    struct Settings {
        Clock::duration ttl{};
        std::int64_t rate_limit_per_second = 0;  // 0 = none
        std::size_t max_users = 1'000'000;       // users past this go to Redis every time
    };

    explicit SoldOutMemo(Settings settings) : settings_(settings) {}

    /// The answer for `user` from memory (counted against the rate limit), or nothing: then the
    /// request must go to Redis.
    std::optional<IssueDecision> Answer(std::int64_t user,
                                        Clock::time_point now,
                                        std::uint64_t epoch);

    /// Learns from one script call, sent at `sent` while the process epoch was `epoch`.
    /// `generation` is the template's restore count when the template was sold out at the end of
    /// the call, else negative. `answers[i]` is the answer to `users[i]`.
    void Learn(Clock::time_point sent,
               std::uint64_t epoch,
               std::int64_t generation,
               std::span<const std::int64_t> users,
               std::span<const Result<IssueDecision>> answers);

    /// Gives the memo the roster of `generation` (ignored unless that is the memo's generation;
    /// dropped with everything else when the generation or the epoch moves).
    void SetRoster(std::int64_t generation, std::shared_ptr<const Roster> roster);

    std::int64_t generation() const { return generation_; }
    std::size_t users() const { return users_.size(); }

    /// True once no call has confirmed the sell-out for `idle` past the memo's time: nobody has
    /// been asking (a crowd renews it every half-ttl), so its memory can go.
    bool Unused(Clock::time_point now, Clock::duration idle) const {
        return valid_until_ == Clock::time_point::min() || now - idle >= valid_until_;
    }

  private:
    struct Known {
        bool at_limit = false;           // 409, else 410
        Clock::time_point window_end{};  // the rate-limit window (1 s from its first request)
        std::int64_t in_window = 0;      // requests answered in it
    };
    void Forget();

    Settings settings_;
    std::uint64_t epoch_ = 0;
    std::int64_t generation_ = -1;
    Clock::time_point valid_until_ = Clock::time_point::min();
    Clock::time_point cleared_at_ = Clock::time_point::min();     // calls sent before: stale
    Clock::time_point refresh_after_ = Clock::time_point::min();  // the next renewal request
    // Open addressing: a node-based map cost ~8 % of the I/O thread in cache misses at 50,000
    // users (perf, docs/benchmarks.md).
    boost::unordered_flat_map<std::int64_t, Known> users_;
    std::shared_ptr<const Roster> roster_;  // of generation_, or none
};

}  // namespace joopang::redis
