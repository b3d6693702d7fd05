#include "infra/redis/per_thread_client.hpp"

#include <stdexcept>

namespace joopang::redis {

namespace {
thread_local std::size_t this_thread_index = 0;
}

PerThreadClient::PerThreadClient(std::vector<std::shared_ptr<Client>> clients)
    : clients_(std::move(clients)) {
    if (clients_.empty()) throw std::invalid_argument("PerThreadClient needs a client");
}

void PerThreadClient::BindThisThread(std::size_t index) { this_thread_index = index; }

Client& PerThreadClient::Mine() const {
    const std::size_t i = this_thread_index < clients_.size() ? this_thread_index : 0;
    return *clients_[i];
}

Awaitable<Result<Reply>> PerThreadClient::Command(Args args, CallOptions opts) {
    return Mine().Command(std::move(args), opts);
}

Awaitable<Result<std::vector<Reply>>> PerThreadClient::Batch(std::vector<Args> commands,
                                                             CallOptions opts) {
    return Mine().Batch(std::move(commands), opts);
}

Awaitable<Result<Reply>> PerThreadClient::BlockingCommand(Args args, CallOptions opts) {
    return Mine().BlockingCommand(std::move(args), opts);
}

Awaitable<Status> PerThreadClient::LoadScript(const Script& script, CallOptions opts) {
    for (auto& c : clients_) {
        Status st = co_await c->LoadScript(script, opts);
        if (!st) co_return st;
    }
    co_return Status{};
}

Awaitable<Status> PerThreadClient::Ping(CallOptions opts) {
    for (auto& c : clients_) {
        Status st = co_await c->Ping(opts);
        if (!st) co_return st;
    }
    co_return Status{};
}

bool PerThreadClient::IsConnected() const {
    for (const auto& c : clients_)
        if (!c->IsConnected()) return false;
    return true;
}

void PerThreadClient::Close() {
    for (auto& c : clients_) c->Close();
}

std::string PerThreadClient::Describe() const {
    return clients_.front()->Describe() + " (" + std::to_string(clients_.size()) +
           " connections, one per I/O thread)";
}

Awaitable<Result<std::vector<Reply>>> PerThreadClient::SendPipeline(std::string_view payload,
                                                                    std::size_t count,
                                                                    int slot,
                                                                    CallOptions opts) {
    return Mine().SendPipeline(payload, count, slot, opts);
}

Awaitable<Result<Reply>> PerThreadClient::CommandOnSlotNode(Args args, int slot, CallOptions opts) {
    return Mine().CommandOnSlotNode(std::move(args), slot, opts);
}

Awaitable<Result<Reply>> PerThreadClient::SendEncoded(std::string_view payload,
                                                      int slot,
                                                      CallOptions opts) {
    return Mine().SendEncoded(payload, slot, opts);
}

bool PerThreadClient::RoutesBySlot() const { return clients_.front()->RoutesBySlot(); }

}  // namespace joopang::redis
