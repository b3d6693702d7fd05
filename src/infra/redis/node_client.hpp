#pragma once
/// The Client for one Redis server (internal; create it with redis::Connect()).

#include <memory>

#include "infra/redis/blocking_pool.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/connection.hpp"

namespace joopang::redis {

class NodeClient final : public Client {
  public:
    NodeClient(boost::asio::any_io_executor executor,
               const ClientOptions& options,
               Endpoint endpoint);
    ~NodeClient() override;

    Awaitable<Result<Reply>> Command(Args args, CallOptions opts = {}) override;
    Awaitable<Result<std::vector<Reply>>> Batch(std::vector<Args> commands,
                                                CallOptions opts = {}) override;
    Awaitable<Result<Reply>> BlockingCommand(Args args, CallOptions opts = {}) override;
    Awaitable<Status> LoadScript(const Script& script, CallOptions opts = {}) override;
    Awaitable<Status> Ping(CallOptions opts = {}) override;
    bool IsConnected() const override;
    void Close() override;
    std::string Describe() const override;

    /// Waits for the first connection (see ClientOptions::wait_connected).
    Awaitable<Status> WaitConnected();

  protected:
    Awaitable<Result<Reply>> CommandOnSlotNode(Args args, int slot, CallOptions opts) override;
    Awaitable<Result<Reply>> SendEncoded(std::string_view payload,
                                         int slot,
                                         CallOptions opts) override;
    Awaitable<Result<std::vector<Reply>>> SendPipeline(std::string_view payload,
                                                       std::size_t count,
                                                       int slot,
                                                       CallOptions opts) override;
    bool RoutesBySlot() const override { return false; }

  private:
    ClientOptions options_;
    Endpoint endpoint_;
    std::shared_ptr<Connection> conn_;
    BlockingPool blocking_;
};

}  // namespace joopang::redis
