#include "infra/redis/cluster_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <map>

#include "infra/redis/call_support.hpp"
#include "infra/redis/call_timer.hpp"
#include "infra/redis/command_keys.hpp"
#include "infra/redis/crc16.hpp"
#include "infra/redis/resp_writer.hpp"

namespace joopang::redis {

namespace {

constexpr auto kMinRefreshInterval = std::chrono::milliseconds(100);

Error CrossSlot(const Args& args) {
    return Error::Internal("redis cluster: refused " +
                           (args.empty() ? std::string("command") : args[0]) +
                           " before sending: its keys hash to different slots (give keys that "
                           "must go together the same {hash tag})");
}

std::string_view AskingPrefix() { return "*1\r\n$6\r\nASKING\r\n"; }

}  // namespace

ClusterClient::ClusterClient(boost::asio::any_io_executor executor,
                             const ClientOptions& options,
                             std::vector<Endpoint> seeds)
    : executor_(executor),
      options_(options),
      connection_options_(MakeConnectionOptions(options, Endpoint{})),
      seeds_(std::move(seeds)),
      blocking_(executor,
                MakeConnectionOptions(options, Endpoint{}),
                options.max_idle_blocking_connections) {}

ClusterClient::~ClusterClient() { Close(); }

std::shared_ptr<Connection> ClusterClient::ConnectionTo(const Endpoint& endpoint) {
    std::lock_guard lock(mutex_);
    auto& conn = connections_[endpoint.Name()];
    if (!conn) {
        ConnectionOptions opts = connection_options_;
        opts.endpoint = endpoint;
        conn = Connection::Start(executor_, std::move(opts));
    }
    return conn;
}

Result<Endpoint> ClusterClient::Route(int slot) {
    std::lock_guard lock(mutex_);
    if (slot >= 0) {
        if (const Endpoint* owner = map_.Owner(slot)) return *owner;
    } else {
        auto masters = map_.ServingNodes();
        if (!masters.empty()) return masters.front();
        if (!seeds_.empty()) return seeds_.front();
    }
    return Error::Unavailable("redis cluster: no node serves slot " + std::to_string(slot));
}

std::vector<Endpoint> ClusterClient::Masters() const {
    std::lock_guard lock(mutex_);
    return map_.ServingNodes();
}

Awaitable<Result<std::vector<Reply>>> ClusterClient::SendTo(const Endpoint& endpoint,
                                                            std::string_view payload,
                                                            std::size_t reply_count,
                                                            Clock::time_point deadline) {
    if (closed_) co_return Error::Unavailable("redis client closed");
    auto conn = ConnectionTo(endpoint);
    if (!conn->IsConnected()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        left = std::min(left, options_.connect_timeout);
        if (left.count() > 0) co_await conn->WaitConnected(left, false);
    }
    CallTimer timer;
    co_return co_await conn->Execute(payload, reply_count, deadline);
}

Awaitable<Status> ClusterClient::RefreshSlots() {
    std::vector<Endpoint> candidates;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [name, conn] : connections_) {
            if (conn->IsConnected()) candidates.push_back(conn->endpoint());
        }
    }
    candidates.insert(candidates.end(), seeds_.begin(), seeds_.end());
    Error last = Error::Unavailable("redis cluster: no seed node given");
    std::string payload = EncodeCommand(Args{"CLUSTER", "SLOTS"});
    for (const auto& ep : candidates) {
        if (closed_) co_return Error::Unavailable("redis client closed");
        auto conn = ConnectionTo(ep);
        if (!conn->IsConnected()) {
            Status st = co_await conn->WaitConnected(options_.connect_timeout, true);
            if (!st) {
                last = st.error();
                continue;
            }
        }
        auto result = co_await conn->Execute(payload, 1, Clock::now() + options_.command_timeout);
        if (!result) {
            last = result.error();
            continue;
        }
        auto ranges = ParseClusterSlots(result->front(), ep);
        if (!ranges) {
            last = ranges.error();
            continue;
        }
        if (ranges->empty()) {
            last = Error::Unavailable("redis cluster: " + ep.Name() + " serves no slots yet");
            continue;
        }
        std::vector<Endpoint> masters;
        {
            std::lock_guard lock(mutex_);
            map_.Assign(*ranges);
            masters = map_.ServingNodes();
            last_refresh_ = Clock::now();
        }
        for (const auto& m : masters) ConnectionTo(m);
        co_return Status{};
    }
    co_return last;
}

void ClusterClient::TriggerRefresh() {
    if (closed_) return;
    {
        std::lock_guard lock(mutex_);
        if (Clock::now() - last_refresh_ < kMinRefreshInterval) return;
    }
    if (refreshing_.exchange(true)) return;
    boost::asio::co_spawn(
        executor_,
        [self = shared_from_this()]() -> Awaitable<void> {
            co_await self->RefreshSlots();
            {
                std::lock_guard lock(self->mutex_);
                self->last_refresh_ = Clock::now();
            }
            self->refreshing_ = false;
        },
        boost::asio::detached);
}

Awaitable<Status> ClusterClient::Init() {
    Status st = co_await RefreshSlots();
    if (!st) co_return st;
    for (const auto& m : Masters()) {
        Status up = co_await ConnectionTo(m)->WaitConnected(options_.connect_timeout, false);
        if (!up) co_return up;
    }
    co_return Status{};
}

void ClusterClient::StartInit() {
    boost::asio::co_spawn(
        executor_, [self = shared_from_this()]() -> Awaitable<void> { co_await self->Init(); },
        boost::asio::detached);
}

Awaitable<Result<Reply>> ClusterClient::Routed(std::string_view payload,
                                               int slot,
                                               CallOptions opts,
                                               Clock::time_point deadline) {
    auto first = Route(slot);
    if (!first) {
        TriggerRefresh();
        co_return first.error();
    }
    Endpoint target = std::move(*first);
    bool asking = false;
    int redirects = 0;
    int attempt = 0;
    std::string asking_payload;
    for (;;) {
        Result<std::vector<Reply>> result = Error::Internal("unset");
        if (asking) {
            asking_payload.assign(AskingPrefix());
            asking_payload += payload;
            result = co_await SendTo(target, asking_payload, 2, deadline);
        } else {
            result = co_await SendTo(target, payload, 1, deadline);
        }
        if (!result) {
            TriggerRefresh();
            co_return result.error();
        }
        Reply reply = std::move(result->back());
        if (auto redirect = ParseRedirect(reply, target)) {
            if (++redirects > opts.max_redirects) co_return reply;
            if (redirect->kind == Redirect::Kind::kMoved) {
                {
                    std::lock_guard lock(mutex_);
                    map_.SetOwner(redirect->slot, redirect->target);
                }
                TriggerRefresh();
                asking = false;
            } else {
                asking = true;
            }
            target = std::move(redirect->target);
            continue;
        }
        bool retry = false;
        if (opts.retry_transient && IsTransient(reply))  // co_await kept out of the && (GCC 12)
            retry = co_await SleepBeforeRetry(attempt++, deadline);
        if (retry) {
            if (reply.IsErrorCode("CLUSTERDOWN")) TriggerRefresh();
            auto again = Route(slot);
            if (again) target = std::move(*again);
            asking = false;
            continue;
        }
        co_return reply;
    }
}

Awaitable<Result<Reply>> ClusterClient::Command(Args args, CallOptions opts) {
    const auto slot = SlotOfCommand(args);
    if (slot.kind == CommandSlot::Kind::kCrossSlot) co_return CrossSlot(args);
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    const std::string payload = EncodeCommand(args);  // the call only views it
    co_return co_await Routed(payload, slot.slot, opts, deadline);
}

Awaitable<Result<Reply>> ClusterClient::CommandOnSlotNode(Args args, int slot, CallOptions opts) {
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    const std::string payload = EncodeCommand(args);  // the call only views it
    co_return co_await Routed(payload, slot, opts, deadline);
}

Awaitable<Result<Reply>> ClusterClient::SendEncoded(std::string_view payload,
                                                    int slot,
                                                    CallOptions opts) {
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    co_return co_await Routed(payload, slot, opts, deadline);
}

Awaitable<Result<std::vector<Reply>>> ClusterClient::SendPipeline(std::string_view payload,
                                                                  std::size_t count,
                                                                  int slot,
                                                                  CallOptions opts) {
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    auto target = Route(slot);
    if (!target) {
        TriggerRefresh();
        co_return target.error();
    }
    CallTimer timer;
    auto replies = co_await SendTo(*target, payload, count, deadline);
    // A redirection or a lost node means the map is stale: learn the new one in the background.
    if (!replies || (!replies->empty() && (replies->front().IsErrorCode("MOVED") ||
                                           replies->front().IsErrorCode("ASK"))))
        TriggerRefresh();
    co_return replies;
}

Awaitable<Result<std::vector<Reply>>> ClusterClient::Batch(std::vector<Args> commands,
                                                           CallOptions opts) {
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    std::vector<int> slots(commands.size(), -1);
    for (std::size_t i = 0; i < commands.size(); ++i) {
        const auto s = SlotOfCommand(commands[i]);
        if (s.kind == CommandSlot::Kind::kCrossSlot) co_return CrossSlot(commands[i]);
        slots[i] = s.slot;
    }
    struct Group {
        Endpoint endpoint;
        std::vector<std::size_t> indices;
        std::string payload;
    };
    std::map<std::string, Group> groups;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        auto target = Route(slots[i]);
        if (!target) {
            TriggerRefresh();
            co_return target.error();
        }
        auto& g = groups[target->Name()];
        g.endpoint = *target;
        g.indices.push_back(i);
        AppendCommand(g.payload, commands[i]);
    }
    std::vector<Reply> replies(commands.size());
    for (auto& [name, g] : groups) {
        auto result = co_await SendTo(g.endpoint, g.payload, g.indices.size(), deadline);
        if (!result) {
            TriggerRefresh();
            co_return result.error();
        }
        for (std::size_t k = 0; k < g.indices.size(); ++k) {
            replies[g.indices[k]] = std::move((*result)[k]);
        }
    }
    // Redirected or transiently refused commands go again, one by one, through Routed().
    for (std::size_t i = 0; i < commands.size(); ++i) {
        const Reply& r = replies[i];
        const bool redirected = r.IsErrorCode("MOVED") || r.IsErrorCode("ASK");
        if (!redirected && !(opts.retry_transient && IsTransient(r))) continue;
        const std::string payload = EncodeCommand(commands[i]);  // the call only views it
        auto again = co_await Routed(payload, slots[i], opts, deadline);
        if (!again) co_return again.error();
        replies[i] = std::move(*again);
    }
    co_return replies;
}

Awaitable<Result<Reply>> ClusterClient::BlockingCommand(Args args, CallOptions opts) {
    const auto slot = SlotOfCommand(args);
    if (slot.kind == CommandSlot::Kind::kCrossSlot) co_return CrossSlot(args);
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    auto target = Route(slot.slot);
    if (!target) co_return target.error();
    const std::string payload = EncodeCommand(args);
    bool asking = false;
    for (int redirects = 0;; ++redirects) {
        std::string p = asking ? std::string(AskingPrefix()) + payload : payload;
        auto reply = co_await blocking_.Run(*target, std::move(p), deadline, asking ? 2 : 1);
        if (!reply) co_return reply.error();
        auto redirect = ParseRedirect(*reply, *target);
        if (!redirect || redirects >= opts.max_redirects) co_return reply;
        if (redirect->kind == Redirect::Kind::kMoved) {
            std::lock_guard lock(mutex_);
            map_.SetOwner(redirect->slot, redirect->target);
        }
        asking = redirect->kind == Redirect::Kind::kAsk;
        target = redirect->target;
    }
}

Awaitable<Status> ClusterClient::LoadScript(const Script& script, CallOptions opts) {
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    const std::string payload = EncodeCommand(Args{"SCRIPT", "LOAD", script.source()});
    for (const auto& m : Masters()) {
        auto result = co_await SendTo(m, payload, 1, deadline);
        if (!result) co_return result.error();
        const Reply& r = result->front();
        if (!r.IsBulk() || r.str != script.sha1()) {
            co_return Error::Unavailable("SCRIPT LOAD of '" + script.name() + "' on " + m.Name() +
                                         " failed: " + r.ToString());
        }
    }
    co_return Status{};
}

Awaitable<Status> ClusterClient::Ping(CallOptions opts) {
    const auto deadline = CallDeadline(opts, options_.command_timeout);
    const auto masters = Masters();
    if (masters.empty()) co_return Error::Unavailable("redis cluster: slot map unknown");
    const std::string payload = EncodeCommand(Args{"PING"});
    for (const auto& m : masters) {
        auto result = co_await SendTo(m, payload, 1, deadline);
        if (!result) co_return result.error();
        const Reply& r = result->front();
        if (!r.IsStatus() || r.str != "PONG") {
            co_return Error::Unavailable("redis " + m.Name() + " PING: " + r.ToString());
        }
    }
    co_return Status{};
}

bool ClusterClient::IsConnected() const {
    if (closed_) return false;
    std::lock_guard lock(mutex_);
    const auto masters = map_.ServingNodes();
    if (masters.empty()) return false;
    for (const auto& m : masters) {
        auto it = connections_.find(m.Name());
        if (it == connections_.end() || !it->second->IsConnected()) return false;
    }
    return true;
}

void ClusterClient::Close() {
    if (closed_.exchange(true)) return;
    std::unordered_map<std::string, std::shared_ptr<Connection>> conns;
    {
        std::lock_guard lock(mutex_);
        conns.swap(connections_);
    }
    for (auto& [name, conn] : conns) conn->Close();
    blocking_.Close();
}

std::string ClusterClient::Describe() const {
    std::lock_guard lock(mutex_);
    return "redis cluster (" + std::to_string(map_.ServingNodes().size()) + " masters)";
}

}  // namespace joopang::redis
