#pragma once
/// A Client made of one client per I/O thread ("reactor"): each call goes to the client that
/// runs on the calling thread, so a request never crosses threads to reach Redis (no post there,
/// none back) and every reactor pipelines its own commands. Threads that are not reactors use
/// the first client. Each member client must run on its own single-threaded io_context.

#include <memory>
#include <vector>

#include "infra/redis/client.hpp"

namespace joopang::redis {

class PerThreadClient final : public Client {
  public:
    /// `clients[i]` serves the thread that called BindThisThread(i). Precondition: not empty.
    explicit PerThreadClient(std::vector<std::shared_ptr<Client>> clients);

    /// Marks the calling thread as reactor `index` (call it first thing on each I/O thread).
    static void BindThisThread(std::size_t index);

    Awaitable<Result<Reply>> Command(Args args, CallOptions opts = {}) override;
    Awaitable<Result<std::vector<Reply>>> Batch(std::vector<Args> commands,
                                                CallOptions opts = {}) override;
    Awaitable<Result<Reply>> BlockingCommand(Args args, CallOptions opts = {}) override;
    /// Loads on every member's server(s) (they may be distinct nodes of a cluster view).
    Awaitable<Status> LoadScript(const Script& script, CallOptions opts = {}) override;
    /// Error unless every member answered.
    Awaitable<Status> Ping(CallOptions opts = {}) override;
    /// True when every member is connected.
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
    bool RoutesBySlot() const override;

  private:
    Client& Mine() const;

    std::vector<std::shared_ptr<Client>> clients_;
};

}  // namespace joopang::redis
