#pragma once
/// The sans-io core of a Redis connection: requests go `waiting → written → done`, every request
/// waiting when the socket becomes writable goes out in one write, and replies are matched to
/// requests in FIFO order. No sockets, timers or threads: the owner feeds bytes and events in and
/// writes out what PrepareWrite() returns. Not thread-safe; the owner serialises calls (a strand).
///
/// A request may carry several commands (a batch); it is done when all their replies arrived.
/// Cancelling or timing out a written request completes it at once with an Error and leaves a
/// tombstone in the FIFO that swallows its replies when they come, so the stream never
/// desynchronises and no caller ever receives another request's reply.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "infra/redis/reply.hpp"

namespace joopang::redis {

class RespReader;

class Multiplexer {
  public:
    using Clock = std::chrono::steady_clock;
    using RequestId = std::uint64_t;
    enum class State { kWaiting, kWritten, kDone };

    struct Completion {
        RequestId id;
        /// The replies of the request's commands, in order (error replies included), or the
        /// transport Error that ended it (timeout, cancellation, connection lost).
        Result<std::vector<Reply>> result;
    };

    Multiplexer();
    ~Multiplexer();
    Multiplexer(const Multiplexer&) = delete;
    Multiplexer& operator=(const Multiplexer&) = delete;

    /// Queues a request in state kWaiting. `payload` holds `reply_count` (>= 1) encoded commands;
    /// `id` must be unique among live requests. A request past `deadline` is ended by Expire().
    void Add(RequestId id,
             std::string_view payload,
             std::size_t reply_count,
             Clock::time_point deadline = Clock::time_point::max());

    /// Same, encoding `commands` (one reply each; at least one) into the write buffer.
    void Add(RequestId id,
             std::span<const Args> commands,
             Clock::time_point deadline = Clock::time_point::max());

    /// True if some request waits to be written.
    bool HasWaiting() const { return !waiting_.empty(); }
    /// Moves every waiting request to kWritten and returns all their bytes, in order, as one
    /// buffer. The view stays valid until the next PrepareWrite() whatever else is called.
    std::string_view PrepareWrite();

    /// Bytes read from the connection. Completes every request whose replies are all in. Returns
    /// an Error on a protocol error or a reply nobody asked for: drop the connection, FailAll().
    Status Feed(std::string_view bytes);

    /// Ends request `id` with `error`: a waiting one is removed and never written, a written one
    /// becomes a tombstone. Returns false if `id` is not live (already done or unknown).
    bool Cancel(RequestId id, Error error);
    /// Ends with `error` every live request whose deadline is <= now.
    void Expire(Clock::time_point now, const Error& error);
    /// The connection is gone: ends every live request with `error`, forgets tombstones and resets
    /// the parser so the multiplexer can serve a new connection.
    void FailAll(const Error& error);

    /// Moves out the completions produced since the last call, in completion order.
    void TakeCompleted(std::vector<Completion>& out);
    std::vector<Completion> TakeCompleted();

    State StateOf(RequestId id) const;
    /// Requests not done yet (tombstones excluded).
    std::size_t LiveCount() const;
    /// True when nothing is waiting or written (tombstones included).
    bool Idle() const { return waiting_.empty() && written_.empty(); }
    /// Earliest deadline among live requests (time_point::max() if none).
    Clock::time_point NextDeadline() const;

  private:
    struct Entry {
        RequestId id = 0;
        std::size_t reply_count = 0;
        std::size_t received = 0;
        Clock::time_point deadline;
        std::size_t begin = 0;  // byte range in pending_ while waiting
        std::size_t end = 0;
        bool tombstone = false;
        std::vector<Reply> replies;
    };

    template <class Pred>
    void DropWaitingIf(Pred pred, const Error& error);

    std::deque<Entry> waiting_;
    std::deque<Entry> written_;
    std::size_t tombstones_ = 0;
    std::string pending_;  // encoded waiting requests
    std::string writing_;  // what the last PrepareWrite() returned
    std::unique_ptr<RespReader> reader_;
    std::vector<Completion> completed_;
};

}  // namespace joopang::redis
