#pragma once
/// The bytes of request bodies being received, over all connections, against one cap: a slow
/// client holds its body's memory for as long as it takes to send it, and many of them together
/// must not exhaust the process. A request whose body does not fit is refused (503, retry later)
/// before its bytes are read.

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

}  // namespace joopang::http
