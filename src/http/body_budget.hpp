#pragma once
/// The bytes of request bodies held, over all connections, against one cap: a slow client holds
/// its body's memory for as long as it takes to send it, and the handler and the response hold it
/// after; many of them together must not exhaust the process. Bytes are taken as they arrive and
/// given back once the response is sent; a request whose bytes do not fit is refused (503, retry
/// later).

#include <atomic>
#include <cstddef>

namespace joopang::http {

class BodyBudget {
  public:
    explicit BodyBudget(std::size_t cap) : cap_(cap) {}
    /// Takes `n` bytes if they fit under the cap; false (taking nothing) otherwise.
    bool Take(std::size_t n) {
        std::size_t used = used_.load(std::memory_order_relaxed);
        do {
            if (n > cap_ || used > cap_ - n) return false;
        } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
        return true;
    }
    void Give(std::size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
    std::size_t used() const { return used_.load(std::memory_order_relaxed); }
    std::size_t cap() const { return cap_; }

  private:
    const std::size_t cap_;
    std::atomic<std::size_t> used_{0};
};

/// Bytes taken from a budget, given back when it goes out of scope.
struct BodyBudgetHold {
    BodyBudget* budget = nullptr;
    std::size_t bytes = 0;
    BodyBudgetHold() = default;
    BodyBudgetHold(const BodyBudgetHold&) = delete;
    BodyBudgetHold& operator=(const BodyBudgetHold&) = delete;
    ~BodyBudgetHold() {
        if (budget && bytes) budget->Give(bytes);
    }
};

}  // namespace joopang::http
