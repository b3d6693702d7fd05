#pragma once
/// Times one Redis call (a command, a script, or a pipeline of them) from sending to its answer
/// into `joopang_redis_call_duration_seconds` (SPEC §7, Redis call latency), when it goes out of
/// scope. Blocking commands (XREADGROUP BLOCK…) are not timed: they wait on purpose.

#include <chrono>

namespace joopang::redis {

class CallTimer {
  public:
    CallTimer() : start_(std::chrono::steady_clock::now()) {}
    ~CallTimer();
    CallTimer(const CallTimer&) = delete;
    CallTimer& operator=(const CallTimer&) = delete;

  private:
    std::chrono::steady_clock::time_point start_;
};

}  // namespace joopang::redis
