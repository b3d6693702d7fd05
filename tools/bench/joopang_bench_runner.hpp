// Load driver of joopang-bench: options, per-worker recording, closed/open-loop runs, progress.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "joopang_bench_histogram.hpp"
#include "joopang_bench_http.hpp"

namespace joopang::bench {

using Clock = std::chrono::steady_clock;

/// Options every scenario accepts.
struct CommonOptions {
    std::string url = "http://127.0.0.1:8080";  ///< service base URL
    int connections = 64;                       ///< keep-alive connections (one worker each)
    int threads = 1;                            ///< io_context threads
    double rate = 0;          ///< open-loop iterations per second in total; 0 = closed loop
    int timeout_ms = 30000;   ///< per-request timeout
    std::string json_file;    ///< write the report as JSON here when set
    std::uint64_t seed = 1;   ///< random seed (user ids, products)
    bool quiet = false;       ///< no progress lines
    std::string admin_token;  ///< bearer token for admin calls
    std::string data_dir;     ///< read <data-dir>/admin-token when admin_token is empty
    std::string auth_secret;  ///< the service's token secret (else <data-dir>/auth-secret)
};

/// Latency and outcomes of one named step ("issue", "browse", ...), merged over workers.
struct StepStats {
    std::string name;                               ///< step name
    Histogram latency;                              ///< latency in ns
    std::map<std::string, std::uint64_t> outcomes;  ///< "202", "409 COUPON_SOLD_OUT", ...
    std::uint64_t responses = 0;                    ///< responses received (any status)
    std::uint64_t errors = 0;                       ///< transport errors
};

/// Counters read by the progress line while workers run (relaxed atomics).
struct LiveCounters {
    std::atomic<std::uint64_t> requests{0};    ///< responses plus transport errors
    std::atomic<std::uint64_t> errors{0};      ///< transport errors
    std::atomic<std::uint64_t> non2xx{0};      ///< responses with a status outside 2xx
    std::atomic<std::uint64_t> iterations{0};  ///< iterations finished
};

/// What one worker measured; workers own one each, merged after the run (not thread-safe).
class Recorder {
  public:
    Recorder() = default;
    /// One StepStats per name, in this order (step ids are the indices).
    explicit Recorder(const std::vector<std::string>& steps, LiveCounters* live = nullptr);

    /// Records a response or transport error of step `step`; `override_ns` >= 0 replaces the
    /// measured latency (open-loop timing). Returns the outcome key ("202",
    /// "409 COUPON_SOLD_OUT", or "" for a transport error).
    std::string Record(std::size_t step, const HttpResult& r, std::int64_t override_ns = -1);
    /// Records only a latency under `step` (composite steps, sub-populations).
    void RecordLatency(std::size_t step, std::int64_t ns);
    /// Adds another recorder's figures (same step list).
    void Merge(const Recorder& other);

    std::vector<StepStats> steps;                 ///< per step
    std::map<std::string, std::uint64_t> errors;  ///< transport errors by "stage: message"
    std::uint64_t requests = 0;                   ///< HTTP requests attempted

  private:
    LiveCounters* live_ = nullptr;
};

/// The error `code` of a JSON error body (`{"code":"COUPON_SOLD_OUT",...}`), or "" if absent.
std::string_view ErrorCodeOf(std::string_view body);
/// Parses a JSON body; nullopt when it is not valid JSON.
std::optional<boost::json::value> ParseJson(std::string_view body);
/// Integer member of a JSON object, or nullopt.
std::optional<std::int64_t> JsonInt(const boost::json::value& v, std::string_view key);
/// String member of a JSON object, or nullopt.
std::optional<std::string> JsonString(const boost::json::value& v, std::string_view key);
/// "12500.00" (or a JSON integer) as cents; nullopt when malformed.
std::optional<std::int64_t> ParseCents(const boost::json::value& v);
/// Cents as "12500.00".
std::string FormatCents(std::int64_t cents);
/// Seconds since `t0`.
double SecondsSince(Clock::time_point t0, Clock::time_point t = Clock::now());
/// Waits `d` on the calling coroutine's executor.
boost::asio::awaitable<void> Sleep(std::chrono::milliseconds d);

/// Counts finished tasks down and wakes the one coroutine waiting for all of them. Copies share
/// the count. Done() may be called from any thread; Wait() must run on `strand`.
class WaitGroup {
  public:
    WaitGroup(boost::asio::any_io_executor strand, int n);
    /// Marks one task done.
    void Done() const;
    /// Returns once every task is done.
    boost::asio::awaitable<void> Wait() const;

  private:
    struct State {
        State(boost::asio::any_io_executor ex, int n)
            : timer(ex, Clock::time_point::max()), pending(n) {}
        boost::asio::steady_timer timer;
        std::atomic<int> pending;
    };
    std::shared_ptr<State> state_;
};

/// Shared state of one bench run: the io_context, the control strand (scenario coroutine,
/// progress line and WaitGroups run on it), the resolved target and a control connection for
/// setup, polling and verification calls.
struct Env {
    Env(boost::asio::io_context& ioc, CommonOptions options, Target target);

    boost::asio::io_context& ioc;
    boost::asio::strand<boost::asio::io_context::executor_type> control;
    CommonOptions opt;
    Target target;
    HttpConnection control_conn;

    /// One request on the control connection (admin = send the admin token).
    boost::asio::awaitable<HttpResult> Call(boost::beast::http::verb method,
                                            std::string_view path,
                                            std::string_view body = {},
                                            bool admin = false);
};

/// The recorders of one load phase, one per thread that ran workers: workers on the same thread
/// share one, which keeps its histograms hot in cache (one histogram per connection would not be).
class RecorderSet {
  public:
    RecorderSet(std::vector<std::string> steps, LiveCounters* live);
    /// The calling thread's recorder (created on first use).
    Recorder& ForThisThread();
    /// All recorders merged; call after the workers finished.
    Recorder Merged() const;

  private:
    std::uint64_t id_;
    std::vector<std::string> steps_;
    LiveCounters* live_;
    std::mutex mu_;
    std::vector<std::unique_ptr<Recorder>> all_;
};

/// A worker of a load phase: its own connection and random generator.
struct Worker {
    Worker(int index,
           boost::asio::any_io_executor ex,
           const Target& target,
           std::chrono::milliseconds timeout,
           RecorderSet* recorders,
           std::uint64_t seed);

    int index;                              ///< 0..connections-1
    boost::asio::any_io_executor executor;  ///< its strand (the io_context with one thread)
    HttpConnection conn;                    ///< keep-alive connection
    RecorderSet* recorders;                 ///< where the figures go
    std::mt19937_64 rng;                    ///< seeded from --seed, the phase and the index
    std::optional<Clock::time_point> due;   ///< open loop: scheduled start of this iteration

    /// The recorder to use now (the current thread's).
    Recorder& rec() { return recorders->ForThisThread(); }

    /// Sends a request and records it under `step`. In open loop the first request of an
    /// iteration is timed from `due` (the scheduled time), not from its actual send, and the
    /// returned latency_ns is that recorded latency.
    boost::asio::awaitable<HttpResult> Send(std::size_t step,
                                            boost::beast::http::verb method,
                                            std::string_view path,
                                            std::string_view body = {},
                                            std::string_view bearer = {},
                                            std::string* outcome = nullptr,
                                            std::string_view header_lines = {});
};

/// One iteration of a scenario for ticket number `ticket` (0-based, unique in the phase).
using IterationFn = std::function<boost::asio::awaitable<void>(Worker&, std::uint64_t ticket)>;
/// Extra text for the progress line (may make requests on the control connection).
using ProgressFn = std::function<boost::asio::awaitable<std::string>(double elapsed_s)>;

/// How a load phase runs.
struct LoadSpec {
    std::string phase = "load";      ///< label of the progress line
    std::vector<std::string> steps;  ///< step names for the recorders
    std::uint64_t iterations = 0;    ///< number of iterations; 0 = run for `duration_s`
    double duration_s = 0;           ///< time limit (0 = none; then `iterations` must be set)
    int connections = 1;             ///< workers (one connection each)
    double rate = 0;                 ///< open loop: iterations/s in total; 0 = closed loop
    bool progress = true;            ///< print the progress line every second
};

/// The merged result of a load phase.
struct LoadResult {
    Recorder total;                       ///< merged recorders
    Clock::time_point start, end;         ///< phase start and end (last worker done)
    std::uint64_t iterations = 0;         ///< iterations finished
    std::uint64_t connects = 0;           ///< TCP connections opened (incl. reconnects)
    std::uint64_t worker_exceptions = 0;  ///< workers that died with an exception
    double elapsed_s() const { return std::chrono::duration<double>(end - start).count(); }
};

/// Runs `spec.connections` workers, each calling `fn` back to back (closed loop) or at the
/// scheduled times (open loop; latency then counts from the scheduled time), until the
/// iterations are used up or the duration passes. Must be awaited on env.control. Workers run
/// on their own strands (with --threads > 1): scenario data they write must be per worker
/// (index by Worker::index).
boost::asio::awaitable<LoadResult> RunLoad(Env& env,
                                           const LoadSpec& spec,
                                           IterationFn fn,
                                           ProgressFn progress_extra = {});

}  // namespace joopang::bench
