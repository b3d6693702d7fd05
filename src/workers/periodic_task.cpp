#include "workers/periodic_task.hpp"

#include <spdlog/spdlog.h>

#include <random>

#include "observability/metrics.hpp"

namespace joopang::workers {

PeriodicTask::PeriodicTask(PeriodicSettings settings, std::function<Status()> run)
    : settings_(std::move(settings)), run_(std::move(run)) {}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Start() {
    thread_ = std::thread([this] { Loop(); });
}

void PeriodicTask::Stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void PeriodicTask::Loop() {
    auto& registry = obs::Registry::Global();
    obs::Labels labels{{"job", settings_.name}};
    auto& runs = registry.GetCounter("joopang_job_runs_total", "Periodic job runs", labels);
    auto& failures =
        registry.GetCounter("joopang_job_failures_total", "Periodic job failures", labels);
    auto& duration =
        registry.GetHistogram("joopang_job_duration_seconds", "Periodic job run duration", labels);
    std::mt19937_64 rng(std::random_device{}());
    std::uniform_real_distribution<double> jitter(0.0, settings_.jitter);
    auto backoff = settings_.period;
    bool failed = false;
    for (;;) {
        auto wait = failed ? backoff : settings_.period;
        wait += std::chrono::milliseconds(static_cast<long>(wait.count() * jitter(rng)));
        {
            std::unique_lock lock(mu_);
            if (cv_.wait_for(lock, wait, [&] { return stopping_; })) return;
        }
        auto start = std::chrono::steady_clock::now();
        Status st;
        try {
            st = run_();
        } catch (const std::exception& e) {
            st = Error::Internal(e.what());
        }
        duration.ObserveNs(std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now() - start)
                               .count());
        runs.Add();
        if (st) {
            failed = false;
            backoff = settings_.period;
        } else {
            failures.Add();
            failed = true;
            backoff = std::min(backoff * 2, settings_.max_backoff);
            spdlog::warn("job {} failed: {}; retrying in about {} ms", settings_.name,
                         st.error().message, backoff.count());
        }
    }
}

}  // namespace joopang::workers
