#pragma once
/// Runs blocking work (database calls, password hashing) on a dedicated thread pool and resumes
/// the awaiting coroutine on its own executor. I/O threads never block on the database.

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>

namespace joopang {

class BlockingPool {
  public:
    explicit BlockingPool(std::size_t threads) : pool_(threads) {}
    ~BlockingPool() { pool_.join(); }

    /// Runs f() on the pool; `elapsed_ns` (if given) receives the time f ran. Exceptions from f
    /// are rethrown in the caller.
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&>> Run(F f, std::int64_t* elapsed_ns = nullptr) {
        using R = std::invoke_result_t<F&>;
        std::optional<R> out;
        std::exception_ptr error;
        auto executor = pool_.get_executor();
        co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
            [&](auto handler) {
                boost::asio::post(executor, [&, handler = std::move(handler)]() mutable {
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
                    auto ex = boost::asio::get_associated_executor(handler);
                    boost::asio::post(ex, std::move(handler));
                });
            },
            boost::asio::use_awaitable);
        if (error) std::rethrow_exception(error);
        co_return std::move(*out);
    }

    void Stop() { pool_.stop(); }

  private:
    boost::asio::thread_pool pool_;
};

}  // namespace joopang
