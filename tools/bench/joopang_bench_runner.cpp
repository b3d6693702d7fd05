#include "joopang_bench_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <cinttypes>
#include <cstdio>
#include <memory>

namespace joopang::bench {
namespace asio = boost::asio;
namespace json = boost::json;
namespace bhttp = boost::beast::http;
using asio::awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// ---------------------------------------------------------------------------------------------
// Small helpers

std::string_view ErrorCodeOf(std::string_view body) {
    auto k = body.find("\"code\"");
    if (k == std::string_view::npos) return {};
    std::size_t i = k + 6;
    while (i < body.size() && (body[i] == ' ' || body[i] == ':')) ++i;
    if (i >= body.size() || body[i] != '"') return {};
    auto end = body.find('"', i + 1);
    if (end == std::string_view::npos) return {};
    return body.substr(i + 1, end - i - 1);
}

std::optional<json::value> ParseJson(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) return std::nullopt;
    return v;
}

std::optional<std::int64_t> JsonInt(const json::value& v, std::string_view key) {
    if (!v.is_object()) return std::nullopt;
    const auto* p = v.get_object().if_contains(key);
    if (!p) return std::nullopt;
    if (p->is_int64()) return p->get_int64();
    if (p->is_uint64() && p->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(p->get_uint64());
    return std::nullopt;
}

std::optional<std::string> JsonString(const json::value& v, std::string_view key) {
    if (!v.is_object()) return std::nullopt;
    const auto* p = v.get_object().if_contains(key);
    if (!p || !p->is_string()) return std::nullopt;
    return std::string(p->get_string());
}

std::optional<std::int64_t> ParseCents(const json::value& v) {
    if (v.is_int64()) return v.get_int64() * 100;
    if (!v.is_string()) return std::nullopt;
    std::string_view s = v.get_string();
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    std::int64_t units = 0, cents = 0;
    std::size_t i = 0;
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) units = units * 10 + (s[i] - '0');
    if (i < s.size()) {
        if (s[i] != '.') return std::nullopt;
        ++i;
        int digits = 0;
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
            if (digits >= 2) return std::nullopt;
            cents = cents * 10 + (s[i] - '0');
        }
        if (i != s.size() || digits == 0) return std::nullopt;
        if (digits == 1) cents *= 10;
    }
    std::int64_t total = units * 100 + cents;
    return negative ? -total : total;
}

std::string FormatCents(std::int64_t cents) {
    char buf[32];
    std::int64_t a = cents < 0 ? -cents : cents;
    std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%02" PRId64, cents < 0 ? "-" : "", a / 100,
                  a % 100);
    return buf;
}

double SecondsSince(Clock::time_point t0, Clock::time_point t) {
    return std::chrono::duration<double>(t - t0).count();
}

awaitable<void> Sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

// ---------------------------------------------------------------------------------------------
// Recorder

Recorder::Recorder(const std::vector<std::string>& names, LiveCounters* live) : live_(live) {
    steps.resize(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) steps[i].name = names[i];
}

std::string Recorder::Record(std::size_t step, const HttpResult& r, std::int64_t override_ns) {
    auto& s = steps.at(step);
    ++requests;
    if (r.status == 0) {
        ++s.errors;
        ++errors[r.ErrorText()];
        if (live_) {
            live_->requests.fetch_add(1, std::memory_order_relaxed);
            live_->errors.fetch_add(1, std::memory_order_relaxed);
        }
        return {};
    }
    ++s.responses;
    std::int64_t ns = override_ns >= 0 ? override_ns : r.latency_ns;
    s.latency.Record(static_cast<std::uint64_t>(ns < 0 ? 0 : ns));
    std::string key = std::to_string(r.status);
    if (r.status >= 300) {
        auto code = ErrorCodeOf(r.body);
        if (!code.empty()) key.append(" ").append(code);
    }
    ++s.outcomes[key];
    if (live_) {
        live_->requests.fetch_add(1, std::memory_order_relaxed);
        if (r.status < 200 || r.status >= 300)
            live_->non2xx.fetch_add(1, std::memory_order_relaxed);
    }
    return key;
}

void Recorder::RecordLatency(std::size_t step, std::int64_t ns) {
    steps.at(step).latency.Record(static_cast<std::uint64_t>(ns < 0 ? 0 : ns));
}

void Recorder::Merge(const Recorder& other) {
    if (steps.size() < other.steps.size()) {
        steps.resize(other.steps.size());
        for (std::size_t i = 0; i < other.steps.size(); ++i) steps[i].name = other.steps[i].name;
    }
    for (std::size_t i = 0; i < other.steps.size(); ++i) {
        auto& a = steps[i];
        const auto& b = other.steps[i];
        a.latency.Merge(b.latency);
        for (const auto& [k, n] : b.outcomes) a.outcomes[k] += n;
        a.responses += b.responses;
        a.errors += b.errors;
    }
    for (const auto& [k, n] : other.errors) errors[k] += n;
    requests += other.requests;
}

// ---------------------------------------------------------------------------------------------
// RecorderSet

namespace {
std::atomic<std::uint64_t> next_recorder_set_id{1};
/// The recorder this thread used last, tagged with its set's id.
thread_local std::pair<std::uint64_t, Recorder*> tl_recorder{0, nullptr};
}  // namespace

RecorderSet::RecorderSet(std::vector<std::string> steps, LiveCounters* live)
    : id_(next_recorder_set_id.fetch_add(1)), steps_(std::move(steps)), live_(live) {}

Recorder& RecorderSet::ForThisThread() {
    if (tl_recorder.first == id_) return *tl_recorder.second;
    std::lock_guard lock(mu_);
    all_.push_back(std::make_unique<Recorder>(steps_, live_));
    tl_recorder = {id_, all_.back().get()};
    return *all_.back();
}

Recorder RecorderSet::Merged() const {
    Recorder out(steps_);
    for (const auto& r : all_) out.Merge(*r);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Env and Worker

Env::Env(asio::io_context& io, CommonOptions options, Target t)
    : ioc(io),
      control(asio::make_strand(io)),
      opt(std::move(options)),
      target(std::move(t)),
      control_conn(control, target, std::chrono::milliseconds(opt.timeout_ms)) {}

awaitable<HttpResult> Env::Call(bhttp::verb method,
                                std::string_view path,
                                std::string_view body,
                                bool admin) {
    const std::string_view bearer = admin ? std::string_view(opt.admin_token) : std::string_view();
    auto r = co_await control_conn.Request(method, path, body, bearer);
    // The control connection may sit idle through a long load phase, and the server closes idle
    // keep-alive connections: a GET (safe to repeat) that finds it closed goes once more on a new
    // one.
    if (r.error && method == bhttp::verb::get)
        r = co_await control_conn.Request(method, path, body, bearer);
    co_return r;
}

Worker::Worker(int i,
               asio::any_io_executor ex,
               const Target& target,
               std::chrono::milliseconds timeout,
               RecorderSet* recorder_set,
               std::uint64_t seed)
    : index(i),
      executor(ex),
      conn(ex, target, timeout),
      recorders(recorder_set),
      rng(seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(i) * 7919u + 1) {}

awaitable<HttpResult> Worker::Send(std::size_t step,
                                   bhttp::verb method,
                                   std::string_view path,
                                   std::string_view body,
                                   std::string_view bearer,
                                   std::string* outcome,
                                   std::string_view header_lines) {
    auto r = co_await conn.Request(method, path, body, bearer, header_lines);
    std::int64_t override_ns = -1;
    if (due) {
        // Open loop: count from the scheduled send time (no coordinated omission).
        override_ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - *due).count();
        due.reset();
        if (r.status != 0) r.latency_ns = override_ns;
    }
    auto key = rec().Record(step, r, override_ns);
    if (outcome) *outcome = std::move(key);
    co_return r;
}

// ---------------------------------------------------------------------------------------------
// WaitGroup

WaitGroup::WaitGroup(asio::any_io_executor strand, int n)
    : state_(std::make_shared<State>(strand, n)) {}

void WaitGroup::Done() const {
    auto s = state_;
    if (s->pending.fetch_sub(1, std::memory_order_acq_rel) == 1)
        asio::post(s->timer.get_executor(), [s] { s->timer.cancel(); });
}

awaitable<void> WaitGroup::Wait() const {
    auto s = state_;
    while (s->pending.load(std::memory_order_acquire) > 0) co_await s->timer.async_wait(kTuple);
}

// ---------------------------------------------------------------------------------------------
// RunLoad

namespace {

/// State shared by the workers of one phase.
struct Phase {
    explicit Phase(const LoadSpec& s) : spec(&s), recorders(s.steps, &live) {}
    const LoadSpec* spec = nullptr;
    IterationFn fn;
    Clock::time_point start;
    std::optional<Clock::time_point> deadline;
    std::atomic<std::uint64_t> next_ticket{0};
    std::atomic<std::uint64_t> exceptions{0};
    LiveCounters live;
    RecorderSet recorders;
};

awaitable<void> WorkerLoop(Worker& w, Phase& ph) {
    const LoadSpec& spec = *ph.spec;
    asio::steady_timer pacer(w.executor);
    for (;;) {
        std::uint64_t ticket = ph.next_ticket.fetch_add(1, std::memory_order_relaxed);
        if (spec.iterations && ticket >= spec.iterations) break;
        auto now = Clock::now();
        if (ph.deadline && now >= *ph.deadline) break;
        if (spec.rate > 0) {
            auto due = ph.start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(ticket / spec.rate));
            if (ph.deadline && due >= *ph.deadline) break;
            if (due > now) {
                pacer.expires_at(due);
                co_await pacer.async_wait(kTuple);
            }
            w.due = due;
        }
        co_await ph.fn(w, ticket);
        w.due.reset();
        ph.live.iterations.fetch_add(1, std::memory_order_relaxed);
    }
}

std::string Si(double v) {
    char buf[32];
    if (v >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

/// Prints one progress line a second until `stop` is set.
struct ProgressState {
    explicit ProgressState(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    bool stop = false;
};

awaitable<void> ProgressLoop(Env& env,
                             const LoadSpec& spec,
                             Phase& ph,
                             std::shared_ptr<ProgressState> st,
                             ProgressFn extra) {
    std::uint64_t prev_requests = 0;
    auto prev = ph.start;
    for (int tick = 1; !st->stop; ++tick) {
        st->timer.expires_at(ph.start + std::chrono::seconds(tick));
        co_await st->timer.async_wait(kTuple);
        if (st->stop) break;
        auto now = Clock::now();
        std::uint64_t req = ph.live.requests.load(std::memory_order_relaxed);
        double dt = SecondsSince(prev, now);
        double rate = dt > 0 ? static_cast<double>(req - prev_requests) / dt : 0;
        prev_requests = req;
        prev = now;
        std::string more;
        if (extra) more = co_await extra(SecondsSince(ph.start, now));
        std::string target;
        if (spec.iterations) target = " / " + std::to_string(spec.iterations);
        std::fprintf(stderr,
                     "[%s %5.1fs] it %" PRIu64 "%s  req %" PRIu64 "  %s req/s  errors %" PRIu64
                     "  non-2xx %" PRIu64 "%s%s\n",
                     spec.phase.c_str(), SecondsSince(ph.start, now),
                     ph.live.iterations.load(std::memory_order_relaxed), target.c_str(), req,
                     Si(rate).c_str(), ph.live.errors.load(std::memory_order_relaxed),
                     ph.live.non2xx.load(std::memory_order_relaxed), more.empty() ? "" : "  ",
                     more.c_str());
    }
}

}  // namespace

namespace {
/// A strand per worker with several threads; the plain io_context executor (cheaper) with one.
asio::any_io_executor WorkerExecutor(Env& env) {
    if (env.opt.threads <= 1) return env.ioc.get_executor();
    return asio::make_strand(env.ioc);
}
}  // namespace

awaitable<LoadResult> RunLoad(Env& env,
                              const LoadSpec& spec,
                              IterationFn fn,
                              ProgressFn progress_extra) {
    auto ph = std::make_shared<Phase>(spec);
    ph->fn = std::move(fn);
    int n = std::max(1, spec.connections);
    if (spec.iterations) n = static_cast<int>(std::min<std::uint64_t>(n, spec.iterations));
    std::vector<std::unique_ptr<Worker>> workers;
    workers.reserve(n);
    for (int i = 0; i < n; ++i) {
        workers.push_back(std::make_unique<Worker>(
            i, WorkerExecutor(env), env.target, std::chrono::milliseconds(env.opt.timeout_ms),
            &ph->recorders, env.opt.seed ^ std::hash<std::string>{}(spec.phase)));
    }
    ph->start = Clock::now();
    if (spec.duration_s > 0)
        ph->deadline = ph->start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(spec.duration_s));

    WaitGroup done(env.control, n);
    for (auto& w : workers) {
        Worker* wp = w.get();
        asio::co_spawn(wp->executor, WorkerLoop(*wp, *ph), [done, ph, wp](std::exception_ptr e) {
            if (e) {
                ph->exceptions.fetch_add(1);
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    std::fprintf(stderr, "worker %d died: %s\n", wp->index, ex.what());
                }
            }
            done.Done();
        });
    }
    bool show = spec.progress && !env.opt.quiet;
    auto pst = std::make_shared<ProgressState>(env.control);
    WaitGroup progress_done(env.control, show ? 1 : 0);
    if (show) {
        asio::co_spawn(env.control, ProgressLoop(env, spec, *ph, pst, std::move(progress_extra)),
                       [progress_done, ph, pst](std::exception_ptr) { progress_done.Done(); });
    }
    co_await done.Wait();
    LoadResult out;
    out.end = Clock::now();
    out.start = ph->start;
    pst->stop = true;
    pst->timer.cancel();
    co_await progress_done.Wait();

    out.total = ph->recorders.Merged();
    for (auto& w : workers) out.connects += w->conn.connects();
    out.iterations = ph->live.iterations.load();
    out.worker_exceptions = ph->exceptions.load();
    co_return out;
}

}  // namespace joopang::bench
