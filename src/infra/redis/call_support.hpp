#pragma once
/// Helpers shared by the node and cluster clients (internal): connection options, deadlines,
/// transient error replies and the short sleeps between retries.

#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "infra/redis/connection.hpp"
#include "infra/redis/options.hpp"
#include "infra/redis/reply.hpp"

namespace joopang::redis {

using Clock = std::chrono::steady_clock;

/// The options of one connection to `endpoint`, taken from the client's.
ConnectionOptions MakeConnectionOptions(const ClientOptions& options, Endpoint endpoint);

/// The absolute deadline of a call.
Clock::time_point CallDeadline(const CallOptions& opts, std::chrono::milliseconds default_timeout);

/// LOADING, BUSY, TRYAGAIN, CLUSTERDOWN, MASTERDOWN: the command was not executed; retrying later
/// may succeed.
bool IsTransient(const Reply& reply);

/// Sleeps before retry number `attempt` (0-based): 5 ms doubling to 200 ms. Returns false (without
/// sleeping) when the sleep would end past `deadline`.
boost::asio::awaitable<bool> SleepBeforeRetry(int attempt, Clock::time_point deadline);

}  // namespace joopang::redis
