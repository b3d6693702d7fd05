#pragma once
/// Periodic jobs: each runs every `period` (plus up to `jitter` of it at random, so instances do
/// not run in lockstep), backs off after a failure (doubling up to `max_backoff`), and, when
/// `leased`, runs on one instance at a time.
///
/// A leased job takes the lease "job:<name>" for one period before each run and never gives it
/// back: the lease runs out by itself, so across all instances the job runs about once per
/// period, and a dead holder frees it within a period. A run that lasts longer than the lease is
/// renewed every third of it while the run lasts. An instance that cannot reach the lease store
/// skips the run (skipping is safe; running twice is what the lease prevents).
///
/// Jobs are coroutines on one executor — in the service, the first I/O reactor, which also serves
/// requests and renews the leases: a job body must never block it, and sends blocking work
/// (database calls) to a BlockingPool. Each job has its metrics: runs, failures, skips (lease held
/// elsewhere), duration and the time of the last success.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/ports/lease_store.hpp"
#include "common/error.hpp"

namespace joopang::workers {

struct JobSettings {
    std::string name;
    std::chrono::milliseconds period{1000};
    /// Up to this fraction of the period is added to each wait at random.
    double jitter = 0.1;
    std::chrono::milliseconds max_backoff{30'000};
    /// One instance at a time (needs the runner's LeaseStore).
    bool leased = false;
    /// The first run right after Start() instead of after one period.
    bool run_at_start = false;
};

/// One run; an error asks for a back-off. An exception counts as an error.
using JobBody = std::function<boost::asio::awaitable<Status>()>;

class JobRunner {
  public:
    /// `leases` may be null when no job is leased; `holder` names this instance in leases.
    JobRunner(boost::asio::any_io_executor executor, LeaseStore* leases, std::string holder);
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    /// Before Start().
    void Add(JobSettings settings, JobBody body);
    void Start();
    /// Ends every wait, lets runs in progress finish, and returns when all jobs have stopped.
    /// Idempotent.
    void Stop();

  private:
    struct Job;
    struct State;
    static boost::asio::awaitable<void> Loop(std::shared_ptr<State> state, Job& job);
    static boost::asio::awaitable<Status> RunLeased(std::shared_ptr<State> state, Job& job);
    /// The job's body; an exception of any kind becomes an error.
    static boost::asio::awaitable<Status> RunBody(Job& job);

    std::shared_ptr<State> state_;
};

}  // namespace joopang::workers
