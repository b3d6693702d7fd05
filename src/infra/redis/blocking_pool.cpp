#include "infra/redis/blocking_pool.hpp"

namespace joopang::redis {

BlockingPool::BlockingPool(boost::asio::any_io_executor executor,
                           ConnectionOptions base,
                           std::size_t max_idle_per_node)
    : executor_(std::move(executor)), base_(std::move(base)), max_idle_(max_idle_per_node) {
    base_.reconnect = false;
}

std::shared_ptr<Connection> BlockingPool::TakeIdle(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(name);
    if (it == idle_.end()) return nullptr;
    while (!it->second.empty()) {
        auto conn = std::move(it->second.back());
        it->second.pop_back();
        if (conn->IsConnected()) return conn;
    }
    return nullptr;
}

void BlockingPool::GiveBack(std::shared_ptr<Connection> conn) {
    std::lock_guard lock(mutex_);
    if (closed_ || !conn->IsConnected()) return;
    auto& list = idle_[conn->name()];
    if (list.size() < max_idle_) list.push_back(std::move(conn));
}

boost::asio::awaitable<Result<Reply>> BlockingPool::Run(const Endpoint& endpoint,
                                                        std::string payload,
                                                        Connection::Clock::time_point deadline,
                                                        std::size_t reply_count) {
    {
        std::lock_guard lock(mutex_);
        if (closed_) co_return Error::Unavailable("redis client closed");
    }
    auto conn = TakeIdle(endpoint.Name());
    if (!conn) {
        ConnectionOptions opts = base_;
        opts.endpoint = endpoint;
        conn = Connection::Start(executor_, std::move(opts));
        Status st = co_await conn->WaitConnected(base_.connect_timeout, true);
        if (!st) co_return st.error();
    }
    auto result = co_await conn->Execute(payload, reply_count, deadline);
    if (!result) co_return result.error();  // `conn` is dropped and closed
    GiveBack(std::move(conn));
    co_return std::move(result->back());
}

void BlockingPool::Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    idle_.clear();
}

}  // namespace joopang::redis
