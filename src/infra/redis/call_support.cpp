#include "infra/redis/call_support.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace joopang::redis {

ConnectionOptions MakeConnectionOptions(const ClientOptions& options, Endpoint endpoint) {
    ConnectionOptions c;
    c.endpoint = std::move(endpoint);
    c.connect_timeout = options.connect_timeout;
    c.backoff_min = options.reconnect_backoff_min;
    c.backoff_max = options.reconnect_backoff_max;
    c.client_name = options.client_name;
    c.single_threaded_executor = options.single_threaded_executor;
    return c;
}

Clock::time_point CallDeadline(const CallOptions& opts, std::chrono::milliseconds default_timeout) {
    const auto timeout = opts.timeout.count() > 0 ? opts.timeout : default_timeout;
    return Clock::now() + timeout;
}

bool IsTransient(const Reply& reply) {
    if (!reply.IsError()) return false;
    const auto code = reply.ErrorCode();
    return code == "LOADING" || code == "BUSY" || code == "TRYAGAIN" || code == "CLUSTERDOWN" ||
           code == "MASTERDOWN";
}

boost::asio::awaitable<bool> SleepBeforeRetry(int attempt, Clock::time_point deadline) {
    const auto delay = std::chrono::milliseconds(std::min(200, 5 << std::min(attempt, 6)));
    if (Clock::now() + delay >= deadline) co_return false;
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer timer(executor);
    timer.expires_after(delay);
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return !ec;
}

}  // namespace joopang::redis
