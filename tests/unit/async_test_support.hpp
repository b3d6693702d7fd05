#pragma once
// Helpers for unit tests of coroutine code: an event loop on a thread of its own, running one
// coroutine to its end, and waiting for a condition with a time limit.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <thread>

namespace joopang::test_support {

/// An io_context run by a thread of its own for the helper's life.
struct Loop {
    boost::asio::io_context ioc;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
        boost::asio::make_work_guard(ioc);
    std::thread thread{[this] { ioc.run(); }};
    ~Loop() {
        work.reset();
        ioc.stop();
        thread.join();
    }
};

/// Runs `coro` to its end on a Loop of its own and returns its result.
template <class T>
T RunToEnd(boost::asio::awaitable<T> coro) {
    Loop loop;
    return boost::asio::co_spawn(loop.ioc, std::move(coro), boost::asio::use_future).get();
}

/// Polls `done()` until it holds or `limit` passes; true if it held.
template <class F>
bool WaitUntil(F done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

}  // namespace joopang::test_support
