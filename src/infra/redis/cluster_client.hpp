#pragma once
/// The Client for a Redis Cluster (internal; create it with redis::Connect() and a
/// redis-cluster:// URL). Keeps the slot map (CLUSTER SLOTS), one shared connection per master,
/// routes each command by its keys' slot, follows MOVED (patching the map and refreshing it in the
/// background) and ASK (ASKING + the command, on the target), and refuses cross-slot commands.

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "infra/redis/blocking_pool.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/cluster_slots.hpp"
#include "infra/redis/connection.hpp"

namespace joopang::redis {

class ClusterClient final : public Client, public std::enable_shared_from_this<ClusterClient> {
  public:
    ClusterClient(boost::asio::any_io_executor executor,
                  const ClientOptions& options,
                  std::vector<Endpoint> seeds);
    ~ClusterClient() override;

    /// Learns the slot map from the first seed that answers and connects to every master.
    Awaitable<Status> Init();
    /// Init() in the background (ClientOptions::wait_connected == false).
    void StartInit();

    Awaitable<Result<Reply>> Command(Args args, CallOptions opts = {}) override;
    Awaitable<Result<std::vector<Reply>>> Batch(std::vector<Args> commands,
                                                CallOptions opts = {}) override;
    Awaitable<Result<Reply>> BlockingCommand(Args args, CallOptions opts = {}) override;
    Awaitable<Status> LoadScript(const Script& script, CallOptions opts = {}) override;
    Awaitable<Status> Ping(CallOptions opts = {}) override;
    bool IsConnected() const override;
    void Close() override;
    std::string Describe() const override;

  protected:
    Awaitable<Result<Reply>> CommandOnSlotNode(Args args, int slot, CallOptions opts) override;
    Awaitable<Result<Reply>> SendEncoded(std::string_view payload,
                                         int slot,
                                         CallOptions opts) override;
    Awaitable<Result<std::vector<Reply>>> SendPipeline(std::string_view payload,
                                                       std::size_t count,
                                                       int slot,
                                                       CallOptions opts) override;
    bool RoutesBySlot() const override { return true; }

  private:
    using Clock = Connection::Clock;

    std::shared_ptr<Connection> ConnectionTo(const Endpoint& endpoint);
    /// The master of `slot` (any master when slot < 0).
    Result<Endpoint> Route(int slot);
    std::vector<Endpoint> Masters() const;
    Awaitable<Status> RefreshSlots();
    void TriggerRefresh();
    /// Sends one encoded command for `slot`, following redirections and transient errors.
    /// `payload` must stay valid until the call completes.
    Awaitable<Result<Reply>> Routed(std::string_view payload,
                                    int slot,
                                    CallOptions opts,
                                    Clock::time_point deadline);
    /// Sends `payload` to `endpoint`, waiting (within `deadline`) for a new connection to come up.
    Awaitable<Result<std::vector<Reply>>> SendTo(const Endpoint& endpoint,
                                                 std::string_view payload,
                                                 std::size_t reply_count,
                                                 Clock::time_point deadline);

    boost::asio::any_io_executor executor_;
    ClientOptions options_;
    ConnectionOptions connection_options_;
    std::vector<Endpoint> seeds_;
    mutable std::mutex mutex_;
    SlotMap map_;
    std::unordered_map<std::string, std::shared_ptr<Connection>> connections_;
    BlockingPool blocking_;
    std::atomic<bool> refreshing_{false};
    std::atomic<bool> closed_{false};
    Clock::time_point last_refresh_{};
};

}  // namespace joopang::redis
