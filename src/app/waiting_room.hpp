#pragma once
/// The waiting room (SPEC §6): users join a line and are admitted at a global rate; routes the
/// operator protects serve only callers holding an active token of their own. The line itself
/// lives in a WaitingLine (Redis, shared by every instance); this use case issues the tokens,
/// estimates waits from the admission rate the last admission step measured, runs the admission
/// and sweep steps for the jobs, and carries the operator's reads and changes.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "app/ports/waiting_line.hpp"

namespace joopang {

/// A ticket with its estimated wait.
struct QueueView {
    QueueTicket ticket;
    std::int64_t estimated_wait_ms = 0;
};

class WaitingRoom {
  public:
    /// `defaults`: the flags, which admission follows until the operator changes them.
    WaitingRoom(WaitingLine& line, QueueSettings defaults);

    boost::asio::awaitable<Result<QueueView>> Join(std::int64_t user_id);
    /// A token as `user_id` sees it (0: the admin): TOKEN_NOT_FOUND when unknown or run out,
    /// FORBIDDEN when another user's.
    boost::asio::awaitable<Result<QueueView>> Read(const std::string& token, std::int64_t user_id);
    boost::asio::awaitable<Status> Leave(const std::string& token, std::int64_t user_id);
    /// A protected route's check: QUEUE_TOKEN_REQUIRED unless `token` is an active token of
    /// `user_id` (whose active time then starts again).
    boost::asio::awaitable<Status> CheckActive(std::optional<std::string_view> token,
                                               std::int64_t user_id);
    /// A completed payment frees the user's active token.
    boost::asio::awaitable<Status> Release(std::int64_t user_id);

    /// The admission job's step; keeps the figures for wait estimates and the operator.
    boost::asio::awaitable<Result<QueueStats>> AdmitStep();
    /// The sweep job's step: drops what ran out, in calls of at most `chunk` tokens, until none
    /// is left or `max_calls` were made.
    boost::asio::awaitable<Result<std::int64_t>> SweepStep(std::int64_t chunk, int max_calls);

    boost::asio::awaitable<Result<QueueStats>> Stats();
    boost::asio::awaitable<Result<QueueStats>> Configure(
        std::optional<std::int64_t> admit_per_second,
        std::optional<std::int64_t> max_active,
        std::optional<bool> paused);

    /// People ahead ÷ the admission rate measured over the last minute (the configured rate
    /// before there is a history), in ms.
    static std::int64_t EstimateWaitMs(std::int64_t position, const QueueStats& stats);
    /// A fresh token: 128 random bits as 32 hex digits.
    static std::string NewToken();
    static bool LooksLikeToken(std::string_view text);

  private:
    QueueView View(QueueTicket ticket);

    WaitingLine& line_;
    QueueSettings defaults_;
    std::mutex mu_;
    QueueStats last_;  // as the last admission step left it
};

}  // namespace joopang
