#pragma once
/// Helpers shared by the node and cluster clients (internal): deadlines, transient error replies
/// and the short sleeps between retries.

#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "infra/redis/options.hpp"
#include "infra/redis/reply.hpp"

namespace joopang::redis {

using Clock = std::chrono::steady_clock;

/// The absolute deadline of a call.
Clock::time_point CallDeadline(const CallOptions& opts, std::chrono::milliseconds default_timeout);

/// LOADING, BUSY, TRYAGAIN, CLUSTERDOWN, MASTERDOWN: the command was not executed; retrying later
/// may succeed.
bool IsTransient(const Reply& reply);

/// Sleeps before retry number `attempt` (0-based): 5 ms doubling to 200 ms. Returns false (without
/// sleeping) when the sleep would end past `deadline`.
boost::asio::awaitable<bool> SleepBeforeRetry(int attempt, Clock::time_point deadline);

}  // namespace joopang::redis
