#include "infra/redis/script_batcher.hpp"

#include <algorithm>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace joopang::redis {
namespace asio = boost::asio;

namespace {

using Done = asio::any_completion_handler<void(Result<Reply>)>;

/// A batch being filled: per event loop (execution context) and group.
struct OpenKey {
    const void* context = nullptr;
    std::string group;
    bool operator==(const OpenKey&) const = default;
};
struct OpenKeyHash {
    std::size_t operator()(const OpenKey& k) const noexcept {
        return std::hash<const void*>()(k.context) ^ (std::hash<std::string>()(k.group) << 1);
    }
};

/// The calls of one script call.
struct Batch {
    std::uint64_t id = 0;
    OpenKey key;
    bool deferred = false;           // its flush found max_in_flight batches at Redis
    asio::any_io_executor executor;  // of the calls: their answers are handed out there
    Args keys;                       // the group's head keys, then each call's
    Args args;                       // the group's head arguments, then each call's
    std::vector<Done> waiters;
};

}  // namespace

struct ScriptBatcher::State {
    std::shared_ptr<Client> client;
    Script script;
    std::size_t max_batch = kDefaultMaxBatch;
    std::size_t max_in_flight = kDefaultMaxInFlight;

    std::mutex mu;  // guards the three below (an io_context may be run by several threads)
    std::unordered_map<OpenKey, std::unique_ptr<Batch>, OpenKeyHash> open;
    std::unordered_map<OpenKey, std::size_t, OpenKeyHash> in_flight;  // batches at Redis
    std::uint64_t next_id = 0;

    State(std::shared_ptr<Client> c, Script s) : client(std::move(c)), script(std::move(s)) {}
};

namespace {

using State = ScriptBatcher::State;

asio::awaitable<void> Send(std::shared_ptr<State> s, std::unique_ptr<Batch> b);

/// Counts a batch of `key` answered, and sends the one its flush deferred, if any.
void Answered(const std::shared_ptr<State>& s, const OpenKey& key) {
    std::unique_ptr<Batch> next;
    {
        std::lock_guard lock(s->mu);
        auto flying = s->in_flight.find(key);
        if (flying != s->in_flight.end() && --flying->second == 0) s->in_flight.erase(flying);
        auto it = s->open.find(key);
        if (it != s->open.end() && it->second->deferred) {
            next = std::move(it->second);
            s->open.erase(it);
            ++s->in_flight[key];
        }
    }
    if (next) {
        auto ex = next->executor;
        asio::co_spawn(ex, Send(s, std::move(next)), asio::detached);
    }
}

/// Runs one batch's script call and hands every call its answer on the calls' executor. This
/// coroutine runs there too, so dispatch resumes each call at once instead of queueing a handler
/// per answer.
asio::awaitable<void> Send(std::shared_ptr<State> s, std::unique_ptr<Batch> b) {
    std::optional<Result<Reply>> reply;
    try {
        reply = co_await s->client->Eval(s->script, b->keys, b->args);
    } catch (const std::exception& e) {
        // Not expected (the client returns its errors), but every call of the batch must still
        // hear an answer: a thrown exception would end this detached coroutine and drop them.
        reply.emplace(Error::Unavailable("redis " + s->script.name() + " call: " + e.what()));
    } catch (...) {
        reply.emplace(Error::Unavailable("redis " + s->script.name() + " call failed"));
    }
    // The next batch goes to Redis before this one's answers are handed out.
    Answered(s, b->key);
    auto& r = *reply;
    const std::size_t n = b->waiters.size();
    std::optional<Error> failed;
    if (!r)
        failed = r.error();
    else if (!r->IsArray() || r->elements.size() < n)
        failed =
            Error::Unavailable("redis " + s->script.name() + " script answered " + r->ToString());
    for (std::size_t i = 0; i < n; ++i) {
        Result<Reply> answer = failed ? Result<Reply>(*failed) : std::move(r->elements[i]);
        asio::dispatch(b->executor,
                       [done = std::move(b->waiters[i]), answer = std::move(answer)]() mutable {
                           std::move(done)(std::move(answer));
                       });
    }
}

/// Sends the batch `id` of `key` if it is still open (a full batch has gone already).
void Flush(const std::shared_ptr<State>& s, const OpenKey& key, std::uint64_t id) {
    std::unique_ptr<Batch> b;
    {
        std::lock_guard lock(s->mu);
        auto it = s->open.find(key);
        if (it == s->open.end() || it->second->id != id) return;
        if (s->in_flight[key] >= s->max_in_flight) {
            // Sent when a batch of this key is answered, with whatever joins it meanwhile.
            it->second->deferred = true;
            return;
        }
        b = std::move(it->second);
        s->open.erase(it);
        ++s->in_flight[key];
    }
    auto ex = b->executor;
    asio::co_spawn(ex, Send(s, std::move(b)), asio::detached);
}

struct Call {
    Args head_keys, head_args, keys, args;
};

/// Adds one call to the open batch of its event loop and group, opening one if needed. A new
/// batch is flushed by a handler posted behind the ones already queued: the other calls this
/// turn of the event loop has read join it before it goes.
void Join(const std::shared_ptr<State>& s, const asio::any_io_executor& ex, Call call, Done done) {
    OpenKey key{&asio::query(ex, asio::execution::context), call.head_keys.at(0)};
    std::unique_ptr<Batch> full;
    {
        std::lock_guard lock(s->mu);
        auto& open = s->open[key];
        if (!open) {
            open = std::make_unique<Batch>();
            open->id = ++s->next_id;
            open->key = key;
            open->executor = ex;
            open->keys = std::move(call.head_keys);
            open->args = std::move(call.head_args);
            asio::post(ex, [s, key, id = open->id] { Flush(s, key, id); });
        }
        for (auto& k : call.keys) open->keys.push_back(std::move(k));
        for (auto& a : call.args) open->args.push_back(std::move(a));
        open->waiters.push_back(std::move(done));
        if (open->waiters.size() >= s->max_batch) {
            // A full batch goes at once, whatever is in flight.
            full = std::move(open);
            s->open.erase(key);
            ++s->in_flight[key];
        }
    }
    if (full) asio::co_spawn(ex, Send(s, std::move(full)), asio::detached);
}

}  // namespace

ScriptBatcher::ScriptBatcher(std::shared_ptr<Client> client,
                             Script script,
                             std::size_t max_batch,
                             std::size_t max_in_flight)
    : state_(std::make_shared<State>(std::move(client), std::move(script))) {
    state_->max_batch = std::max<std::size_t>(1, max_batch);
    state_->max_in_flight = std::max<std::size_t>(1, max_in_flight);
}

ScriptBatcher::~ScriptBatcher() = default;

Awaitable<Result<Reply>> ScriptBatcher::Call(Args head_keys, Args head_args, Args keys, Args args) {
    auto ex = co_await asio::this_coro::executor;
    auto join = [s = state_, ex,
                 call = ::joopang::redis::Call{std::move(head_keys), std::move(head_args),
                                               std::move(keys),
                                               std::move(args)}](auto handler) mutable {
        Join(s, ex, std::move(call), Done(std::move(handler)));
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<Reply>)>(
        std::move(join), asio::use_awaitable);
}

}  // namespace joopang::redis
