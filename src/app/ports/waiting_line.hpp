#pragma once
/// The waiting room's line (SPEC §6), kept where every instance sees it (Redis): tokens in
/// arrival order, the active ones, the admission settings and what was admitted lately. Every
/// operation is one atomic step on the store's own clock, whatever the instances' clocks.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/error.hpp"

namespace joopang {

enum class QueueState { kWaiting, kActive };

/// A live token as its owner sees it.
struct QueueTicket {
    std::string token;
    std::int64_t user_id = 0;
    QueueState state = QueueState::kWaiting;
    std::int64_t position = 0;  // 1 = next to be admitted; 0 when active
    EpochMs expires_at = 0;     // unread (waiting) or unused (active) until then, it is dropped
    bool created = false;       // a new token, not the user's live one
};

/// How admission runs; the operator's changes are kept with the line, so every instance
/// follows them.
struct QueueSettings {
    std::int64_t admit_per_second = 100;
    std::int64_t max_active = 0;  // 0: no cap
    bool paused = false;
};

/// The line as one admission step left it.
struct QueueStats {
    QueueSettings settings;
    std::int64_t waiting = 0;
    std::int64_t active = 0;
    std::int64_t admitted = 0;              // by this step
    std::int64_t admitted_last_minute = 0;  // by every instance
    std::int64_t history_seconds = 0;       // how much of that minute has admissions on record
};

/// How long a token lives unread or unused.
struct QueueTtls {
    EpochMs waiting_ms = 5 * 60'000;
    EpochMs active_ms = 5 * 60'000;
};

/// What a token lookup by someone found.
enum class TokenLookup { kFound, kUnknown, kOthers };

class WaitingLine {
  public:
    virtual ~WaitingLine() = default;
    /// The user's live token, else `fresh_token` at the end of the line (one live token per user).
    virtual boost::asio::awaitable<Result<QueueTicket>> Join(std::int64_t user_id,
                                                             const std::string& fresh_token) = 0;
    /// A token as `user_id` (0: the admin, anyone's) sees it; the owner's read keeps a waiting
    /// token in line. `found` says whether it is live and whose.
    virtual boost::asio::awaitable<Result<std::pair<TokenLookup, QueueTicket>>> Read(
        const std::string& token, std::int64_t user_id) = 0;
    /// Takes a token out of the line or frees its active slot.
    virtual boost::asio::awaitable<Result<TokenLookup>> Leave(const std::string& token,
                                                              std::int64_t user_id) = 0;
    /// Whether `token` is an active token of `user_id`; if so its active time starts again.
    virtual boost::asio::awaitable<Result<bool>> Use(const std::string& token,
                                                     std::int64_t user_id) = 0;
    /// Frees the user's active token, if any (a completed payment).
    virtual boost::asio::awaitable<Status> Release(std::int64_t user_id) = 0;
    /// One admission step: tokens from the head of the line become active at the global rate,
    /// under the cap; with `read_only`, nothing changes and only the figures come back.
    virtual boost::asio::awaitable<Result<QueueStats>> Admit(const QueueSettings& defaults,
                                                             bool read_only) = 0;
    /// Drops tokens unread or unused past their time, at most `max` of them; returns how many.
    virtual boost::asio::awaitable<Result<std::int64_t>> Sweep(std::int64_t max) = 0;
    /// Changes the settings every instance admits by (unset fields keep theirs).
    virtual boost::asio::awaitable<Status> Configure(std::optional<std::int64_t> admit_per_second,
                                                     std::optional<std::int64_t> max_active,
                                                     std::optional<bool> paused) = 0;
};

}  // namespace joopang
