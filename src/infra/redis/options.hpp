#pragma once
/// Options of a Redis client and of a single call.

#include <chrono>
#include <cstddef>
#include <string>

namespace joopang::redis {

/// Per-call options. The defaults suit ordinary commands.
struct CallOptions {
    /// How long the call may take in all (retries and redirections included); 0 = the client's
    /// ClientOptions::command_timeout. A call that times out fails with kUnavailable; its reply,
    /// if it still comes, is discarded.
    std::chrono::milliseconds timeout{0};
    /// Retry, with a short backoff and within `timeout`, commands answered LOADING, BUSY,
    /// TRYAGAIN or CLUSTERDOWN (all of which mean "not executed"). When the time is up, the last
    /// such error reply is returned.
    bool retry_transient = true;
    /// Cluster: MOVED/ASK redirections followed at most.
    int max_redirects = 5;
};

struct ClientOptions {
    /// See endpoint.hpp for the forms: redis://, unix://, redis-cluster://h1:p1,h2:p2.
    std::string url = "redis://127.0.0.1:6379";
    /// One connection attempt (TCP connect + AUTH/SELECT) may take this long.
    std::chrono::milliseconds connect_timeout{2000};
    /// Default CallOptions::timeout.
    std::chrono::milliseconds command_timeout{2000};
    /// Reconnection after a failed attempt or a dropped connection waits `min`, doubling up to
    /// `max`, with ±20% jitter; a successful connection resets it to `min`.
    std::chrono::milliseconds reconnect_backoff_min{50};
    std::chrono::milliseconds reconnect_backoff_max{2000};
    /// Connect() returns only once connected (failing after connect_timeout, or at the first
    /// refused attempt); false: it returns at once and the client connects in the background.
    bool wait_connected = true;
    /// Dedicated connections for blocking commands kept open between calls, per node.
    std::size_t max_idle_blocking_connections = 4;
    /// CLIENT SETNAME on every connection when not empty.
    std::string client_name;
    /// The executor given to the client belongs to an io_context run by exactly one thread (as
    /// each of joopang's reactors is): connections skip their strand, and callers on that
    /// executor are served without posts. Must stay false when several threads run it.
    bool single_threaded_executor = false;
};

}  // namespace joopang::redis
