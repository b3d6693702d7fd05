#include "infra/redis/coupon_issue_batcher.hpp"

#include <algorithm>
#include <atomic>
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
#include <unordered_map>
#include <utility>
#include <vector>

#include "infra/redis/coupon_codec.hpp"
#include "infra/redis/coupon_keys.hpp"
#include "infra/redis/lua_scripts.hpp"
#include "infra/redis/numbers.hpp"
#include "infra/redis/script.hpp"
#include "infra/redis/sold_out_memo.hpp"
#include "infra/redis/sold_out_roster.hpp"
#include "observability/metrics.hpp"

namespace joopang::redis {
namespace asio = boost::asio;
namespace keys = coupon_keys;

namespace {

/// The issue decision (src/infra/redis/lua/coupon_issue.lua, embedded at build time; the
/// benchmark runs the same file through redis-benchmark).
const Script kIssueScript("coupon-issue", std::string(lua::kCouponIssue));

using Done = asio::any_completion_handler<void(Result<IssueDecision>)>;

/// A batch being filled: per event loop (execution context) and template.
struct OpenKey {
    const void* context = nullptr;
    std::int64_t template_id = 0;
    bool operator==(const OpenKey&) const = default;
};
struct OpenKeyHash {
    std::size_t operator()(const OpenKey& k) const noexcept {
        return std::hash<const void*>()(k.context) ^
               (std::hash<std::int64_t>()(k.template_id) << 1);
    }
};

/// The requests of one script call.
struct Batch {
    std::uint64_t id = 0;
    OpenKey key;
    bool deferred = false;  // its flush found max_in_flight batches at Redis: sent after one
    asio::any_io_executor executor;  // of the requests: their answers are handed out there
    Args keys;  // meta stock users seq stream, then each request's rate-limit key (if limited)
    Args args;  // the rate limit, then each request's user
    std::vector<std::int64_t> users;  // the same users, as numbers (for the sold-out memo)
    std::vector<Done> waiters;
    SoldOutMemo::Clock::time_point sent{};  // when the call went to Redis
    std::uint64_t epoch = 0;                // the process's template-change epoch then
};

Error ScriptError(const Reply& r) {
    return Error::Unavailable("redis coupon-issue script: " + r.ToString());
}

/// One request's answer in the script's reply (see the script's header for the forms).
Result<IssueDecision> DecisionOf(const Reply& r) {
    // Losers get a bare integer, a win or a rate limit an array led by its code.
    std::int64_t code = 0;
    if (r.IsInteger())
        code = r.integer;
    else if (r.IsArray() && !r.elements.empty() && r.elements[0].IsInteger())
        code = r.elements[0].integer;
    else
        return ScriptError(r);
    IssueDecision d;
    const auto& e = r.elements;
    switch (code) {
        case 1:
            if (e.size() < 6) return ScriptError(r);
            d.kind = IssueDecision::Kind::kReserved;
            d.position = e[1].integer;
            d.remaining = e[2].integer;
            d.request_id = coupon_codec::RequestIdOf(e[3].str, e[5].integer);
            d.backlog = e[4].integer;
            if (d.request_id <= 0) return ScriptError(r);
            break;
        case -1:
            d.kind = IssueDecision::Kind::kAlreadyIssued;
            break;
        case -2:
            d.kind = IssueDecision::Kind::kSoldOut;
            break;
        case -3:
            d.kind = IssueDecision::Kind::kNotActive;
            break;
        case -4:
            d.kind = IssueDecision::Kind::kUnknownTemplate;
            break;
        case -5:
            d.kind = IssueDecision::Kind::kRateLimited;
            d.retry_after_ms = e.size() > 1 ? e[1].integer : 1000;
            break;
        default:
            return ScriptError(r);
    }
    return d;
}

}  // namespace

/// The roster of a template's latest sold-out generation (see SoldOutMemo), read once per process
/// and generation.
struct Roster {
    std::int64_t generation = -1;
    bool loading = false;
    bool given_up = false;  // too many users to hold: its memos learn user by user
    std::shared_ptr<const SoldOutMemo::Roster> users;
};

struct CouponIssueBatcher::State {
    std::shared_ptr<Client> client;
    std::string rate;  // the script's first argument: "0" = no limit, and no rate-limit keys
    std::size_t max_batch = kDefaultMaxBatch;
    std::size_t max_in_flight = kDefaultMaxInFlight;
    SoldOutMemo::Settings memo;                // ttl 0 = no memo
    SoldOutMemo::Clock::duration memo_idle{};  // unused this long: dropped (see Sweep)
    std::atomic<std::uint64_t> epoch{0};       // moved by ForgetSoldOut
    int wait_replicas = 0;                     // RequireReplicas: 0 = answer once Redis decided
    std::chrono::milliseconds wait_timeout{0};
    obs::Counter* memo_hits = nullptr;    // requests to a sold-out template answered from memory
    obs::Counter* memo_misses = nullptr;  // … and those sent to Redis

    std::mutex mu;  // guards the four below (an io_context may be run by several threads)
    std::unordered_map<OpenKey, std::unique_ptr<Batch>, OpenKeyHash> open;
    std::unordered_map<OpenKey, std::size_t, OpenKeyHash> in_flight;  // batches at Redis
    std::unordered_map<OpenKey, SoldOutMemo, OpenKeyHash> memos;      // of sold-out templates
    std::unordered_map<std::int64_t, Roster> rosters;  // per template, shared by its memos
    SoldOutMemo::Clock::time_point swept{};            // the last Sweep
    std::uint64_t next_id = 0;
};

namespace {

using State = CouponIssueBatcher::State;

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

/// Drops the memos nobody has used for `memo_idle`, and the rosters no memo uses any more. At
/// most once per second, from a script call's answer (under `mu`): cheap, as there are only as
/// many memos as I/O threads times templates sold out lately.
void Sweep(State& s, SoldOutMemo::Clock::time_point now) {
    if (now - s.swept < std::chrono::seconds(1)) return;
    s.swept = now;
    std::erase_if(s.memos, [&](const auto& m) { return m.second.Unused(now, s.memo_idle); });
    std::erase_if(s.rosters, [&](const auto& r) {
        if (r.second.loading) return false;  // its reader will find it gone and stop
        for (const auto& m : s.memos)
            if (m.first.template_id == r.first) return false;
        return true;
    });
}

/// Reads the roster of (`t`, `generation`) and gives it to the template's memos.
asio::awaitable<void> LoadRoster(std::shared_ptr<State> s,
                                 std::int64_t t,
                                 std::int64_t generation) {
    auto read = co_await ReadSoldOutRoster(*s->client, t, generation, s->memo.max_users);
    std::lock_guard lock(s->mu);
    auto it = s->rosters.find(t);
    if (it == s->rosters.end() || it->second.generation != generation) co_return;
    Roster& roster = it->second;
    roster.loading = false;
    if (!read) co_return;  // Redis unreachable: the next sold-out call tries again
    if (!*read) {
        roster.given_up = true;
        co_return;
    }
    roster.users = *read;
    for (auto& [key, memo] : s->memos)
        if (key.template_id == t) memo.SetRoster(generation, roster.users);
}

/// Wins whose writes did not reach the replicas asked for in time: a failover now would lose
/// them, so they are not answered as wins (503, outcome unknown: asking again answers the truth,
/// COUPON_ALREADY_ISSUED if the win survived).
void Unconfirmed(std::vector<Result<IssueDecision>>& answers, std::int64_t had, int wanted) {
    for (auto& a : answers) {
        if (!a || a->kind != IssueDecision::Kind::kReserved) continue;
        Error e = Error::Unavailable("the coupon was reserved, but only " + std::to_string(had) +
                                     " of " + std::to_string(wanted) +
                                     " Redis replicas confirmed it in time; ask again");
        e.outcome_unknown = true;
        a = std::move(e);
    }
}

/// Runs one batch's script call and hands every request its answer on the requests' executor.
/// This coroutine runs there too (Flush and Join spawn it on that executor), so dispatch resumes
/// each request at once, up to its next wait (the response's write), instead of queueing a
/// handler per answer: a post per answer cost ~530 instructions per request (callgrind,
/// tools/bench/callgrind_issue.sh: 15,761 -> 15,234).
asio::awaitable<void> Send(std::shared_ptr<State> s, std::unique_ptr<Batch> b) {
    std::optional<Result<Reply>> reply;
    b->sent = SoldOutMemo::Clock::now();
    b->epoch = s->epoch.load(std::memory_order_acquire);
    std::int64_t replicated = 0;  // replicas that had the call's writes (RequireReplicas)
    try {
        if (s->wait_replicas > 0) {
            auto durable = co_await s->client->EvalThenWait(kIssueScript, b->keys, b->args,
                                                            s->wait_replicas, s->wait_timeout);
            if (durable) {
                replicated = durable->replicas;
                reply.emplace(std::move(durable->reply));
            } else {
                reply.emplace(durable.error());
            }
        } else {
            reply = co_await s->client->Eval(kIssueScript, b->keys, b->args);
        }
    } catch (const std::exception& e) {
        // Not expected (the client returns its errors), but every request of the batch must
        // still hear an answer: a thrown exception would end this detached coroutine and drop
        // the waiters, and their connections would close without a response.
        reply.emplace(Error::Unavailable(std::string("redis coupon-issue call: ") + e.what()));
    } catch (...) {
        reply.emplace(Error::Unavailable("redis coupon-issue call: unknown exception"));
    }
    // The next batch goes to Redis before this one's answers are handed out.
    Answered(s, b->key);
    auto& r = *reply;
    const std::size_t n = b->waiters.size();
    std::vector<Result<IssueDecision>> answers;
    answers.reserve(n);
    if (!r) {
        for (std::size_t i = 0; i < n; ++i) answers.emplace_back(r.error());
    } else if (!r->IsArray() || r->elements.size() != n + 1 || !r->elements[n].IsInteger()) {
        const Error e = ScriptError(*r);
        for (std::size_t i = 0; i < n; ++i) answers.emplace_back(e);
    } else {
        for (std::size_t i = 0; i < n; ++i) answers.push_back(DecisionOf(r->elements[i]));
        if (replicated < s->wait_replicas) Unconfirmed(answers, replicated, s->wait_replicas);
        if (s->memo.ttl > SoldOutMemo::Clock::duration::zero()) {
            const std::int64_t generation = r->elements[n].integer;
            std::lock_guard lock(s->mu);
            Sweep(*s, SoldOutMemo::Clock::now());
            auto memo = s->memos.find(b->key);
            if (memo == s->memos.end() && generation >= 0)
                memo = s->memos.emplace(b->key, SoldOutMemo(s->memo)).first;
            if (memo != s->memos.end()) {
                memo->second.Learn(b->sent, b->epoch, generation, b->users, answers);
                if (generation >= 0 && memo->second.generation() == generation) {
                    Roster& roster = s->rosters[b->key.template_id];
                    if (roster.generation != generation) roster = Roster{generation};
                    if (roster.users) {
                        memo->second.SetRoster(generation, roster.users);
                    } else if (!roster.loading && !roster.given_up) {
                        roster.loading = true;
                        asio::co_spawn(b->executor, LoadRoster(s, b->key.template_id, generation),
                                       asio::detached);
                    }
                }
            }
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        asio::dispatch(b->executor,
                       [done = std::move(b->waiters[i]), answer = std::move(answers[i])]() mutable {
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

/// Adds one request to the open batch of its event loop and template, opening one if needed.
/// A new batch is flushed by a handler posted behind the ones already queued: the other
/// requests this turn of the event loop has read join it before it goes.
void Join(const std::shared_ptr<State>& s,
          const asio::any_io_executor& ex,
          std::int64_t template_id,
          std::int64_t user_id,
          Done done) {
    const OpenKey key{&asio::query(ex, asio::execution::context), template_id};
    std::string user = std::to_string(user_id);
    std::unique_ptr<Batch> full;
    {
        std::lock_guard lock(s->mu);
        auto& open = s->open[key];
        if (!open) {
            open = std::make_unique<Batch>();
            open->id = ++s->next_id;
            open->key = key;
            open->executor = ex;
            open->keys = MakeArgs(keys::Meta(template_id), keys::Stock(template_id),
                                  keys::Users(template_id), keys::Seq(template_id),
                                  keys::Stream(template_id), keys::Won(template_id));
            open->args.push_back(s->rate);
            asio::post(ex, [s, key, id = open->id] { Flush(s, key, id); });
        }
        if (s->rate != "0") {
            std::string rate_key;
            keys::AppendRateLimit(rate_key, template_id, user);
            open->keys.push_back(std::move(rate_key));
        }
        open->args.push_back(std::move(user));
        open->users.push_back(user_id);
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

CouponIssueBatcher::CouponIssueBatcher(std::shared_ptr<Client> client,
                                       std::int64_t rate_limit_per_second,
                                       std::size_t max_batch,
                                       std::size_t max_in_flight,
                                       std::chrono::milliseconds sold_out_memo,
                                       std::chrono::milliseconds sold_out_idle)
    : state_(std::make_shared<State>()) {
    state_->client = std::move(client);
    state_->rate = std::to_string(rate_limit_per_second);
    state_->max_batch = std::clamp<std::size_t>(max_batch, 1, kMaxBatch);
    state_->max_in_flight = std::max<std::size_t>(1, max_in_flight);
    state_->memo.ttl = std::max(sold_out_memo, std::chrono::milliseconds::zero());
    state_->memo.rate_limit_per_second = rate_limit_per_second;
    state_->memo_idle = sold_out_idle;
    auto counter = [](const char* result) {
        return &obs::Registry::Global().GetCounter(
            "joopang_cache_requests_total",
            "Requests a cache could answer, by cache and result (hit: answered from it)",
            {{"cache", "sold_out_memo"}, {"result", result}});
    };
    state_->memo_hits = counter("hit");
    state_->memo_misses = counter("miss");
}

void CouponIssueBatcher::RequireReplicas(int replicas, std::chrono::milliseconds timeout) {
    state_->wait_replicas = replicas;
    state_->wait_timeout = timeout;
}

void CouponIssueBatcher::ForgetSoldOut() { state_->epoch.fetch_add(1, std::memory_order_acq_rel); }

std::pair<std::size_t, std::size_t> CouponIssueBatcher::SoldOutMemories() const {
    std::lock_guard lock(state_->mu);
    return {state_->memos.size(), state_->rosters.size()};
}

CouponIssueBatcher::~CouponIssueBatcher() = default;

Awaitable<Result<IssueDecision>> CouponIssueBatcher::Issue(std::int64_t template_id,
                                                           std::int64_t user_id) {
    auto ex = co_await asio::this_coro::executor;
    if (state_->memo.ttl > SoldOutMemo::Clock::duration::zero()) {
        const OpenKey key{&asio::query(ex, asio::execution::context), template_id};
        const auto epoch = state_->epoch.load(std::memory_order_acquire);
        std::optional<IssueDecision> known;
        {
            std::lock_guard lock(state_->mu);
            auto memo = state_->memos.find(key);
            if (memo != state_->memos.end()) {
                known = memo->second.Answer(user_id, SoldOutMemo::Clock::now(), epoch);
                (known ? state_->memo_hits : state_->memo_misses)->Add();
            }
        }
        if (known) co_return *known;
    }
    auto join = [s = state_, ex, template_id, user_id](auto handler) {
        Join(s, ex, template_id, user_id, Done(std::move(handler)));
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                            void(Result<IssueDecision>)>(std::move(join),
                                                                         asio::use_awaitable);
}

}  // namespace joopang::redis
