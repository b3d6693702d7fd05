#include "workers/job_runner.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <random>
#include <thread>

#include "common/clock.hpp"
#include "observability/metrics.hpp"

namespace joopang::workers {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct JobRunner::Job {
    Job(asio::any_io_executor ex, JobSettings s, JobBody b)
        : settings(std::move(s)), body(std::move(b)), timer(ex) {}
    JobSettings settings;
    JobBody body;
    asio::steady_timer timer;  // the wait between runs; cancelled by Stop()
};

struct JobRunner::State {
    asio::any_io_executor executor;
    LeaseStore* leases = nullptr;
    std::string holder;
    std::vector<std::unique_ptr<Job>> jobs;
    std::atomic<bool> stopping{false};
    std::atomic<int> running{0};
    std::atomic<int> renewers{0};  // lease renewals still running (they end soon after their run)
    std::promise<void> all_stopped;
    bool started = false;
};

namespace {

asio::awaitable<bool> Wait(asio::steady_timer& timer, std::chrono::milliseconds d) {
    timer.expires_after(d);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return !ec;  // false: cancelled (stopping)
}

}  // namespace

JobRunner::JobRunner(asio::any_io_executor executor, LeaseStore* leases, std::string holder)
    : state_(std::make_shared<State>()) {
    state_->executor = std::move(executor);
    state_->leases = leases;
    state_->holder = std::move(holder);
}

JobRunner::~JobRunner() { Stop(); }

void JobRunner::Add(JobSettings settings, JobBody body) {
    if (settings.leased && !state_->leases)
        throw std::logic_error("job " + settings.name + " is leased but there is no lease store");
    state_->jobs.push_back(
        std::make_unique<Job>(state_->executor, std::move(settings), std::move(body)));
}

void JobRunner::Start() {
    auto& s = *state_;
    if (s.started) return;
    s.started = true;
    s.running = static_cast<int>(s.jobs.size());
    if (s.jobs.empty()) s.all_stopped.set_value();
    for (auto& job : s.jobs) {
        asio::co_spawn(s.executor, Loop(state_, *job),
                       [state = state_, name = job->settings.name](std::exception_ptr e) {
                           if (e) spdlog::error("job {} stopped on an exception", name);
                           if (--state->running == 0) state->all_stopped.set_value();
                       });
    }
}

void JobRunner::Stop() {
    auto& s = *state_;
    if (!s.started || s.stopping.exchange(true)) return;
    asio::post(s.executor, [state = state_] {
        for (auto& job : state->jobs) job->timer.cancel();
    });
    s.all_stopped.get_future().wait();
    // A renewal in flight ends with its Redis call; the lease store must outlive it.
    while (s.renewers > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

asio::awaitable<Status> JobRunner::RunLeased(std::shared_ptr<State> state, Job& job) {
    const auto ttl = job.settings.period;
    const std::string lease = "job:" + job.settings.name;
    // Renews the lease every third of it while the run lasts.
    auto done = std::make_shared<bool>(false);
    auto renew_timer = std::make_shared<asio::steady_timer>(state->executor);
    ++state->renewers;
    asio::co_spawn(
        state->executor,
        [state, done, renew_timer, lease, ttl]() -> asio::awaitable<void> {
            struct Leave {
                State& s;
                ~Leave() { --s.renewers; }
            } leave{*state};
            while (!*done) {
                const bool waited =
                    co_await Wait(*renew_timer, std::max(ttl / 3, std::chrono::milliseconds(1)));
                if (!waited || *done) break;
                const bool held = co_await state->leases->Hold(lease, state->holder, ttl);
                if (!held) spdlog::warn("job {}: the lease could not be renewed", lease);
            }
        },
        asio::detached);
    // Whatever way the run ends, the renewals end with it.
    struct EndRenewals {
        std::shared_ptr<bool> done;
        std::shared_ptr<asio::steady_timer> timer;
        ~EndRenewals() {
            *done = true;
            timer->cancel();
        }
    } end_renewals{done, renew_timer};
    co_return co_await RunBody(job);
}

asio::awaitable<Status> JobRunner::RunBody(Job& job) {
    Status st;
    try {
        st = co_await job.body();
    } catch (const std::exception& e) {
        st = Error::Internal(e.what());
    } catch (...) {
        st = Error::Internal("unknown exception");
    }
    co_return st;
}

asio::awaitable<void> JobRunner::Loop(std::shared_ptr<State> state, Job& job) {
    const auto& settings = job.settings;
    auto& registry = obs::Registry::Global();
    obs::Labels labels{{"job", settings.name}};
    auto& runs = registry.GetCounter("joopang_job_runs_total", "Periodic job runs", labels);
    auto& failures =
        registry.GetCounter("joopang_job_failures_total", "Periodic job runs that failed", labels);
    auto& skipped =
        registry.GetCounter("joopang_job_skipped_total",
                            "Periodic job runs skipped: another instance holds the lease", labels);
    auto& duration =
        registry.GetHistogram("joopang_job_duration_seconds", "Periodic job run duration", labels);
    auto& last_success =
        registry.GetGauge("joopang_job_last_success_timestamp_seconds",
                          "Unix time of the job's last successful run on this instance", labels);
    std::mt19937_64 rng(std::random_device{}());
    std::uniform_real_distribution<double> jitter(0.0, std::max(0.0, settings.jitter));
    auto backoff = settings.period;
    bool failed = false;
    bool first = true;
    while (!state->stopping) {
        if (!(first && settings.run_at_start)) {
            auto wait = failed ? backoff : settings.period;
            wait += std::chrono::milliseconds(static_cast<long>(wait.count() * jitter(rng)));
            const bool waited = co_await Wait(job.timer, wait);
            if (!waited || state->stopping) break;
        }
        first = false;
        // Each co_await a statement of its own (GCC 12 mishandles it inside && and ?:).
        if (settings.leased) {
            const bool held = co_await state->leases->Hold("job:" + settings.name, state->holder,
                                                           settings.period);
            if (!held) {
                skipped.Add();
                continue;
            }
        }
        if (state->stopping) break;  // Stop() came while the lease was being taken
        const auto start = Clock::now();
        Status st;
        if (settings.leased)
            st = co_await RunLeased(state, job);
        else
            st = co_await RunBody(job);
        duration.ObserveNs(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
        runs.Add();
        if (st) {
            failed = false;
            backoff = settings.period;
            last_success.Set(static_cast<double>(NowMs()) / 1000.0);
        } else {
            failures.Add();
            failed = true;
            backoff = std::min(backoff * 2, std::max(settings.max_backoff, settings.period));
            spdlog::warn("job {} failed: {}; next run in about {} ms", settings.name,
                         st.error().message, backoff.count());
        }
    }
}

}  // namespace joopang::workers
