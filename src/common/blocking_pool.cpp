#include "common/blocking_pool.hpp"

#include <algorithm>

#include "common/thread_setup.hpp"

namespace joopang {

BlockingPool::BlockingPool(std::size_t threads, std::string name, int nice)
    : context_(static_cast<int>(std::max<std::size_t>(1, threads))),
      work_(boost::asio::make_work_guard(context_)) {
    threads = std::max<std::size_t>(1, threads);
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
        threads_.emplace_back([this, i, name, nice] {
            SetUpThisThread(name + "-" + std::to_string(i), nice);
            context_.run();
        });
    }
}

BlockingPool::~BlockingPool() {
    work_.reset();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

void BlockingPool::Join() {
    Stop();
    work_.reset();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

}  // namespace joopang
