#pragma once
/// A job that runs every `period` (± jitter) on its own thread, backing off after failures, with
/// a run counter and duration histogram per job. Jobs here are blocking (database work), so a
/// dedicated thread keeps them off the I/O and request threads.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.hpp"

namespace joopang::workers {

struct PeriodicSettings {
    std::string name;
    std::chrono::milliseconds period{1000};
    /// Up to this fraction of the period is added at random, so instances don't run in lockstep.
    double jitter = 0.1;
    std::chrono::milliseconds max_backoff{30'000};
};

class PeriodicTask {
  public:
    /// `run` returns an error to request a back-off (doubling up to max_backoff).
    PeriodicTask(PeriodicSettings settings, std::function<Status()> run);
    ~PeriodicTask();
    void Start();
    /// Wakes the thread, waits for a run in progress to finish, and joins. Idempotent.
    void Stop();

  private:
    void Loop();

    PeriodicSettings settings_;
    std::function<Status()> run_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace joopang::workers
