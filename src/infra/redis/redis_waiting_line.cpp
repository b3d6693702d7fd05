#include "infra/redis/redis_waiting_line.hpp"

#include "infra/redis/lua_scripts.hpp"
#include "infra/redis/numbers.hpp"
#include "infra/redis/script.hpp"

namespace joopang::redis {
namespace {

/// A queue script: the shared prelude (keys, clock, helpers), then its own text.
Script QueueScript(const char* name, std::string_view text) {
    std::string body(lua::kQueueCommon);
    body.append("\n").append(text);
    return Script(name, std::move(body));
}

const Script kRead = QueueScript("queue-read", lua::kQueueRead);
const Script kLeave = QueueScript("queue-leave", lua::kQueueLeave);
const Script kUse = QueueScript("queue-use", lua::kQueueUse);
const Script kRelease = QueueScript("queue-release", lua::kQueueRelease);
const Script kAdmit = QueueScript("queue-admit", lua::kQueueAdmit);
const Script kSweep = QueueScript("queue-sweep", lua::kQueueSweep);

constexpr const char* kUsersKey = "queue:{queue}:users";
constexpr const char* kOwnerKey = "queue:{queue}:owner";
constexpr const char* kSeenKey = "queue:{queue}:seen";
constexpr const char* kConfigKey = "queue:{queue}:config";

Error Unexpected(const char* script, const Reply& reply) {
    return Error::Unavailable(std::string(script) + " script answered " + reply.ToString());
}

/// {state, position, expires at} from `reply.elements[from…]`.
bool ParseState(const Reply& reply, std::size_t from, QueueTicket& t) {
    const auto& e = reply.elements;
    if (e.size() < from + 3 || !e[from + 1].IsInteger() || !e[from + 2].IsInteger()) return false;
    if (e[from].str == "WAITING")
        t.state = QueueState::kWaiting;
    else if (e[from].str == "ACTIVE")
        t.state = QueueState::kActive;
    else
        return false;
    t.position = e[from + 1].integer;
    t.expires_at = e[from + 2].integer;
    return true;
}

}  // namespace

RedisWaitingLine::RedisWaitingLine(std::shared_ptr<Client> client, QueueTtls ttls)
    : client_(client), ttls_(ttls), joins_(client, QueueScript("queue-join", lua::kQueueJoin)) {}

RedisWaitingLine::~RedisWaitingLine() = default;

Awaitable<Result<QueueTicket>> RedisWaitingLine::Join(std::int64_t user_id,
                                                      const std::string& fresh_token) {
    Args head_keys{kUsersKey};
    Args head_args{std::to_string(ttls_.waiting_ms)};
    Args args{std::to_string(user_id), fresh_token};
    Args no_keys;  // named: GCC 12 mis-handles braced lists inside co_await expressions
    auto reply = co_await joins_.Call(std::move(head_keys), std::move(head_args),
                                      std::move(no_keys), std::move(args));
    if (!reply) co_return reply.error();
    QueueTicket t;
    if (!reply->IsArray() || reply->elements.size() != 5 || !ParseState(*reply, 1, t) ||
        !reply->elements[4].IsInteger())
        co_return Unexpected("queue-join", *reply);
    t.token = reply->elements[0].str;
    t.user_id = user_id;
    t.created = reply->elements[4].integer == 1;
    co_return t;
}

Awaitable<Result<std::pair<TokenLookup, QueueTicket>>> RedisWaitingLine::Read(
    const std::string& token, std::int64_t user_id) {
    Args keys{kOwnerKey};
    Args args{token, std::to_string(user_id), std::to_string(ttls_.waiting_ms)};
    auto reply = co_await client_->Eval(kRead, keys, args);
    if (!reply) co_return reply.error();
    if (!reply->IsArray()) co_return Unexpected("queue-read", *reply);
    QueueTicket t;
    t.token = token;
    const auto& e = reply->elements;
    if (e.empty()) co_return std::pair{TokenLookup::kUnknown, t};
    t.user_id = ParseInteger(e[0].str).value_or(0);
    if (e.size() == 2 && e[1].str == "OTHER") co_return std::pair{TokenLookup::kOthers, t};
    if (e.size() != 4 || !ParseState(*reply, 1, t)) co_return Unexpected("queue-read", *reply);
    co_return std::pair{TokenLookup::kFound, t};
}

Awaitable<Result<TokenLookup>> RedisWaitingLine::Leave(const std::string& token,
                                                       std::int64_t user_id) {
    Args keys{kOwnerKey};
    Args args{token, std::to_string(user_id)};
    auto reply = co_await client_->Eval(kLeave, keys, args);
    if (!reply) co_return reply.error();
    if (!reply->IsInteger()) co_return Unexpected("queue-leave", *reply);
    if (reply->integer < 0) co_return TokenLookup::kOthers;
    co_return reply->integer == 1 ? TokenLookup::kFound : TokenLookup::kUnknown;
}

Awaitable<Result<bool>> RedisWaitingLine::Use(const std::string& token, std::int64_t user_id) {
    Args keys{kOwnerKey};
    Args args{token, std::to_string(user_id), std::to_string(ttls_.active_ms)};
    auto reply = co_await client_->Eval(kUse, keys, args);
    if (!reply) co_return reply.error();
    if (!reply->IsInteger()) co_return Unexpected("queue-use", *reply);
    co_return reply->integer == 1;
}

Awaitable<Status> RedisWaitingLine::Release(std::int64_t user_id) {
    Args keys{kUsersKey};
    Args args{std::to_string(user_id)};
    auto reply = co_await client_->Eval(kRelease, keys, args);
    if (!reply) co_return reply.error();
    if (!reply->IsInteger()) co_return Unexpected("queue-release", *reply);
    co_return Status{};
}

Awaitable<Result<QueueStats>> RedisWaitingLine::Admit(const QueueSettings& defaults,
                                                      bool read_only) {
    Args keys{kConfigKey};
    Args args{std::to_string(defaults.admit_per_second),
              std::to_string(defaults.max_active),
              defaults.paused ? "1" : "0",
              std::to_string(ttls_.waiting_ms),
              std::to_string(ttls_.active_ms),
              std::to_string(read_only ? 0 : kAdmitChunk)};
    auto reply = co_await client_->Eval(kAdmit, keys, args);
    if (!reply) co_return reply.error();
    const auto& e = reply->elements;
    if (!reply->IsArray() || e.size() != 8) co_return Unexpected("queue-admit", *reply);
    for (const auto& v : e)
        if (!v.IsInteger()) co_return Unexpected("queue-admit", *reply);
    QueueStats s;
    s.admitted = e[0].integer;
    s.settings = {e[1].integer, e[2].integer, e[3].integer == 1};
    s.waiting = e[4].integer;
    s.active = e[5].integer;
    s.admitted_last_minute = e[6].integer;
    s.history_seconds = e[7].integer;
    co_return s;
}

Awaitable<Result<std::int64_t>> RedisWaitingLine::Sweep(std::int64_t max) {
    Args keys{kSeenKey};
    Args args{std::to_string(ttls_.waiting_ms), std::to_string(max)};
    auto reply = co_await client_->Eval(kSweep, keys, args);
    if (!reply) co_return reply.error();
    if (!reply->IsInteger()) co_return Unexpected("queue-sweep", *reply);
    co_return reply->integer;
}

Awaitable<Status> RedisWaitingLine::Configure(std::optional<std::int64_t> admit_per_second,
                                              std::optional<std::int64_t> max_active,
                                              std::optional<bool> paused) {
    Args args{"HSET", kConfigKey};
    if (admit_per_second) {
        args.push_back("admitPerSecond");
        args.push_back(std::to_string(*admit_per_second));
    }
    if (max_active) {
        args.push_back("maxActive");
        args.push_back(std::to_string(*max_active));
    }
    if (paused) {
        args.push_back("paused");
        args.push_back(*paused ? "1" : "0");
    }
    if (args.size() == 2) co_return Status{};
    auto reply = co_await client_->Command(std::move(args));
    if (!reply) co_return reply.error();
    if (reply->IsError()) co_return Error::Unavailable("HSET: " + reply->str);
    co_return Status{};
}

}  // namespace joopang::redis
