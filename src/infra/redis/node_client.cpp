#include "infra/redis/node_client.hpp"

#include <optional>

#include "infra/redis/call_support.hpp"
#include "infra/redis/call_timer.hpp"
#include "infra/redis/resp_writer.hpp"

namespace joopang::redis {

NodeClient::NodeClient(boost::asio::any_io_executor executor,
                       const ClientOptions& options,
                       Endpoint endpoint)
    : options_(options),
      endpoint_(endpoint),
      conn_(Connection::Start(executor, MakeConnectionOptions(options, endpoint))),
      blocking_(executor,
                MakeConnectionOptions(options, endpoint),
                options.max_idle_blocking_connections) {}

NodeClient::~NodeClient() { Close(); }

Awaitable<Status> NodeClient::WaitConnected() {
    co_return co_await conn_->WaitConnected(options_.connect_timeout, true);
}

// (The slot parameter is named: GCC 12 mishandles unnamed coroutine parameters.)
Awaitable<Result<Reply>> NodeClient::SendEncoded(std::string_view payload,
                                                 int slot,
                                                 CallOptions opts) {
    (void)slot;  // one node serves every key
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    for (int attempt = 0;; ++attempt) {
        std::optional<CallTimer> timer(std::in_place);
        auto result = co_await conn_->Execute(payload, 1, deadline);
        timer.reset();
        if (!result) co_return result.error();
        Reply& reply = result->front();
        // co_await kept out of the && (GCC 12 mis-handles co_await in conditional expressions).
        if (opts.retry_transient && IsTransient(reply)) {
            bool again = co_await SleepBeforeRetry(attempt, deadline);
            if (again) continue;
        }
        co_return std::move(reply);
    }
}

Awaitable<Result<std::vector<Reply>>> NodeClient::SendPipeline(std::string_view payload,
                                                               std::size_t count,
                                                               int slot,
                                                               CallOptions opts) {
    (void)slot;  // one node serves every key
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    CallTimer timer;
    co_return co_await conn_->Execute(payload, count, deadline);
}

// The hot path: `args` are encoded on the connection's executor, straight into the write buffer.
Awaitable<Result<Reply>> NodeClient::Command(Args args, CallOptions opts) {
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    for (int attempt = 0;; ++attempt) {
        std::optional<CallTimer> timer(std::in_place);
        auto result = co_await conn_->Execute(std::span<const Args>(&args, 1), deadline);
        timer.reset();
        if (!result) co_return result.error();
        Reply& reply = result->front();
        // co_await kept out of the && (GCC 12 mis-handles co_await in conditional expressions).
        if (opts.retry_transient && IsTransient(reply)) {
            bool again = co_await SleepBeforeRetry(attempt, deadline);
            if (again) continue;
        }
        co_return std::move(reply);
    }
}

// (The parameter is named: GCC 12 mishandles unnamed coroutine parameters.)
Awaitable<Result<Reply>> NodeClient::CommandOnSlotNode(Args args, int slot, CallOptions opts) {
    (void)slot;                                       // one node serves every key
    const std::string payload = EncodeCommand(args);  // the call only views it
    co_return co_await SendEncoded(payload, -1, opts);
}

Awaitable<Result<std::vector<Reply>>> NodeClient::Batch(std::vector<Args> commands,
                                                        CallOptions opts) {
    if (commands.empty()) co_return std::vector<Reply>{};
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    std::string payload;
    for (const auto& c : commands) AppendCommand(payload, c);
    std::optional<CallTimer> timer(std::in_place);
    auto result = co_await conn_->Execute(payload, commands.size(), deadline);
    timer.reset();
    if (!result) co_return result.error();
    if (opts.retry_transient) {
        CallOptions retry = opts;
        retry.timeout =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        for (std::size_t i = 0; i < commands.size(); ++i) {
            if (!IsTransient((*result)[i]) || retry.timeout.count() <= 0) continue;
            const std::string payload = EncodeCommand(commands[i]);  // the call only views it
            auto again = co_await SendEncoded(payload, -1, retry);
            if (!again) co_return again.error();
            (*result)[i] = std::move(*again);
        }
    }
    co_return std::move(*result);
}

Awaitable<Result<Reply>> NodeClient::BlockingCommand(Args args, CallOptions opts) {
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    co_return co_await blocking_.Run(endpoint_, EncodeCommand(args), deadline);
}

Awaitable<Status> NodeClient::LoadScript(const Script& script, CallOptions opts) {
    Args load{"SCRIPT", "LOAD", script.source()};
    auto reply = co_await Command(std::move(load), opts);
    if (!reply) co_return reply.error();
    if (!reply->IsBulk() || reply->str != script.sha1()) {
        co_return Error::Unavailable("SCRIPT LOAD of '" + script.name() +
                                     "' failed: " + reply->ToString());
    }
    co_return Status{};
}

Awaitable<Status> NodeClient::Ping(CallOptions opts) {
    Args ping{"PING"};
    auto reply = co_await Command(std::move(ping), opts);
    if (!reply) co_return reply.error();
    if (!reply->IsStatus() || reply->str != "PONG") {
        co_return Error::Unavailable("redis " + endpoint_.Name() + " PING: " + reply->ToString());
    }
    co_return Status{};
}

bool NodeClient::IsConnected() const { return conn_->IsConnected(); }

void NodeClient::Close() {
    conn_->Close();
    blocking_.Close();
}

std::string NodeClient::Describe() const { return "redis " + endpoint_.Name(); }

}  // namespace joopang::redis
