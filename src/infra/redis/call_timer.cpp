#include "infra/redis/call_timer.hpp"

#include "observability/metrics.hpp"

namespace joopang::redis {

CallTimer::~CallTimer() {
    static auto& calls = obs::Registry::Global().GetHistogram(
        "joopang_redis_call_duration_seconds",
        "Redis calls (a command, a script, or a pipeline of them) from sending to the answer");
    calls.ObserveNs(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start_)
                        .count());
}

}  // namespace joopang::redis
