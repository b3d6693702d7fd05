#pragma once
/// Dedicated connections for blocking commands (internal). A blocking command (XREADGROUP BLOCK,
/// BLPOP) would stall every command pipelined behind it, so each runs alone on a connection taken
/// from this pool, which is returned afterwards; a connection whose call failed, timed out or was
/// cancelled is closed instead, so a late reply can never reach the next user.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "infra/redis/connection.hpp"
#include "infra/redis/endpoint.hpp"
#include "infra/redis/reply.hpp"

namespace joopang::redis {

class BlockingPool {
  public:
    /// `base` gives timeouts and the client name; its endpoint is replaced per call.
    BlockingPool(boost::asio::any_io_executor executor,
                 ConnectionOptions base,
                 std::size_t max_idle_per_node);

    /// Sends `payload` (`reply_count` encoded commands) on a dedicated connection to `endpoint`
    /// and returns the last reply. Thread-safe.
    boost::asio::awaitable<Result<Reply>> Run(const Endpoint& endpoint,
                                              std::string payload,
                                              Connection::Clock::time_point deadline,
                                              std::size_t reply_count = 1);
    /// Closes idle connections; later calls fail. Calls in progress finish on their own.
    void Close();

  private:
    std::shared_ptr<Connection> TakeIdle(const std::string& name);
    void GiveBack(std::shared_ptr<Connection> conn);

    boost::asio::any_io_executor executor_;
    ConnectionOptions base_;
    std::size_t max_idle_;
    std::mutex mutex_;
    bool closed_ = false;
    std::unordered_map<std::string, std::vector<std::shared_ptr<Connection>>> idle_;
};

}  // namespace joopang::redis
