#include "infra/redis/sold_out_memo.hpp"

#include <algorithm>

namespace joopang::redis {

using Kind = IssueDecision::Kind;

std::optional<IssueDecision> SoldOutMemo::Answer(std::int64_t user,
                                                 Clock::time_point now,
                                                 std::uint64_t epoch) {
    if (epoch != epoch_ || now >= valid_until_) return std::nullopt;
    auto it = users_.find(user);
    if (it == users_.end()) {
        if (!roster_ || users_.size() >= settings_.max_users) return std::nullopt;
        it = users_.emplace(user, Known{}).first;
        it->second.at_limit = roster_->contains(user);
    }
    // Past half its time, one request (at most one per half) goes to Redis instead: its answer
    // renews the memo before it runs out, so a steady crowd never finds it expired, with all its
    // requests waiting on Redis at once (that was the p99 of a 10-s run, docs/benchmarks.md).
    const auto half = settings_.ttl / 2;
    if (now >= valid_until_ - half && now >= refresh_after_) {
        refresh_after_ = now + half;
        return std::nullopt;
    }
    Known& k = it->second;
    IssueDecision d;
    // The script's order: the rate limit first (every request counts), then 409 before 410.
    if (settings_.rate_limit_per_second > 0) {
        if (now >= k.window_end) {
            k.window_end = now + std::chrono::seconds(1);
            k.in_window = 0;
        }
        if (++k.in_window > settings_.rate_limit_per_second) {
            d.kind = Kind::kRateLimited;
            d.retry_after_ms = std::max<std::int64_t>(
                1, std::chrono::ceil<std::chrono::milliseconds>(k.window_end - now).count());
            return d;
        }
    }
    d.kind = k.at_limit ? Kind::kAlreadyIssued : Kind::kSoldOut;
    return d;
}

void SoldOutMemo::Forget() {
    users_.clear();
    roster_.reset();
    valid_until_ = Clock::time_point::min();
}

void SoldOutMemo::SetRoster(std::int64_t generation, std::shared_ptr<const Roster> roster) {
    if (generation == generation_ && generation >= 0) roster_ = std::move(roster);
}

void SoldOutMemo::Learn(Clock::time_point sent,
                        std::uint64_t epoch,
                        std::int64_t generation,
                        std::span<const std::int64_t> users,
                        std::span<const Result<IssueDecision>> answers) {
    if (epoch < epoch_) return;  // sent before this process last changed a template
    if (epoch > epoch_) {
        Forget();
        epoch_ = epoch;
        generation_ = -1;
        cleared_at_ = Clock::time_point::min();
    }
    if (generation < 0) {  // not sold out when it ran: nothing remembered holds
        Forget();
        cleared_at_ = std::max(cleared_at_, sent);
        return;
    }
    // A sold-out answer to a call sent before one that found stock (replies of calls on
    // different connections may come back in any order) says nothing about now.
    if (sent < cleared_at_ || generation < generation_) return;
    if (generation > generation_) {  // counters restored since: every answer may have changed
        Forget();
        generation_ = generation;
    }
    const std::size_t n = std::min(users.size(), answers.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (!answers[i]) continue;
        const Kind kind = answers[i]->kind;
        if (kind == Kind::kAlreadyIssued || kind == Kind::kSoldOut) {
            auto it = users_.find(users[i]);
            if (it == users_.end()) {
                if (users_.size() >= settings_.max_users) continue;
                it = users_.emplace(users[i], Known{}).first;
            }
            it->second.at_limit = kind == Kind::kAlreadyIssued;
        } else if (kind == Kind::kRateLimited) {
            // Keep a user Redis has limited limited here for the rest of its window.
            auto it = users_.find(users[i]);
            if (it != users_.end()) {
                it->second.window_end =
                    sent + std::chrono::milliseconds(answers[i]->retry_after_ms);
                it->second.in_window = settings_.rate_limit_per_second;
            }
        }
    }
    valid_until_ = std::max(valid_until_, sent + settings_.ttl);
}

}  // namespace joopang::redis
