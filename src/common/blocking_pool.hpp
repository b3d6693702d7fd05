#pragma once
/// Runs blocking work (database calls, password hashing) on a dedicated thread pool and resumes
/// the awaiting coroutine on its own executor. I/O threads never block on the database.
///
/// The pool's threads carry its name ("db-0", "persist-1", … in `top -H`) and may run at a
/// lower CPU priority (`nice`): background work such as the coupon persister then yields the
/// core to the request path when both want it, and takes what is left otherwise.

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace joopang {

class BlockingPool {
  public:
    /// `threads` threads named `name`-<index>, each `nice` steps below the priority it inherits
    /// (0 = the same; Linux nice values are per thread, a higher one yields the CPU).
    explicit BlockingPool(std::size_t threads, std::string name = "db", int nice = 0);
    /// Finishes the work already queued, then joins the threads (unless Stop() came first).
    ~BlockingPool();
    BlockingPool(const BlockingPool&) = delete;
    BlockingPool& operator=(const BlockingPool&) = delete;

    /// Runs f() on the pool; `elapsed_ns` (if given) receives the time f ran. Exceptions from f
    /// are rethrown in the caller.
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&>> Run(F f, std::int64_t* elapsed_ns = nullptr) {
        using R = std::invoke_result_t<F&>;
        std::optional<R> out;
        std::exception_ptr error;
        auto executor = context_.get_executor();
        co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
            [&](auto handler) {
                waiting_.fetch_add(1, std::memory_order_relaxed);
                boost::asio::post(executor, [&, handler = std::move(handler)]() mutable {
                    waiting_.fetch_sub(1, std::memory_order_relaxed);
                    running_.fetch_add(1, std::memory_order_relaxed);
                    auto start = std::chrono::steady_clock::now();
                    try {
                        out.emplace(f());
                    } catch (...) {
                        error = std::current_exception();
                    }
                    if (elapsed_ns)
                        *elapsed_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now() - start)
                                           .count();
                    running_.fetch_sub(1, std::memory_order_relaxed);
                    auto ex = boost::asio::get_associated_executor(handler);
                    boost::asio::post(ex, std::move(handler));
                });
            },
            boost::asio::use_awaitable);
        if (error) std::rethrow_exception(error);
        co_return std::move(*out);
    }

    /// Threads, calls running now, and calls waiting for a thread (for operators: a pool
    /// whose calls wait is the bottleneck).
    std::size_t threads() const { return threads_.size(); }
    int running() const { return running_.load(std::memory_order_relaxed); }
    int waiting() const { return waiting_.load(std::memory_order_relaxed); }

    /// Abandons queued work; the threads exit as soon as their current call returns.
    void Stop() { context_.stop(); }
    /// Stop(), then waits for the threads to exit: after it, no call of the pool runs any more,
    /// so what the calls use may be destroyed. Idempotent.
    void Join();

  private:
    boost::asio::io_context context_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::vector<std::thread> threads_;
    std::atomic<int> running_{0};
    std::atomic<int> waiting_{0};
};

}  // namespace joopang
