#pragma once
/// A circuit breaker in front of a dependency that may be down: after `failures_to_open` failures
/// in a row it opens, and callers skip the dependency at once (no timeout to wait out) for
/// `open_ms`; then one trial call per `open_ms` is let through (half-open): a success closes the
/// breaker, a failure keeps it open. Thread-safe; time comes from the caller, so tests drive it.

#include <cstdint>
#include <mutex>

#include "common/clock.hpp"

namespace joopang {

class CircuitBreaker {
  public:
    CircuitBreaker(int failures_to_open, EpochMs open_ms)
        : failures_to_open_(failures_to_open), open_ms_(open_ms) {}

    /// Whether to call the dependency now. While open, one caller per `open_ms` gets true (the
    /// trial), so a trial that never reports cannot keep the breaker open for good.
    bool Allow(EpochMs now) {
        std::lock_guard lock(mu_);
        if (!open_) return true;
        if (now < open_until_) return false;
        open_until_ = now + open_ms_;
        return true;
    }
    void RecordSuccess() {
        std::lock_guard lock(mu_);
        open_ = false;
        failures_ = 0;
    }
    void RecordFailure(EpochMs now) {
        std::lock_guard lock(mu_);
        if (open_ || ++failures_ >= failures_to_open_) {
            open_ = true;
            open_until_ = now + open_ms_;
        }
    }
    bool open() const {
        std::lock_guard lock(mu_);
        return open_;
    }

  private:
    const int failures_to_open_;
    const EpochMs open_ms_;
    mutable std::mutex mu_;
    bool open_ = false;
    int failures_ = 0;
    EpochMs open_until_ = 0;
};

}  // namespace joopang
