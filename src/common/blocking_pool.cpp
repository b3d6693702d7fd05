#include "common/blocking_pool.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace joopang {

BlockingPool::BlockingPool(std::size_t threads, std::string name, int nice)
    : context_(static_cast<int>(std::max<std::size_t>(1, threads))),
      work_(boost::asio::make_work_guard(context_)) {
    threads = std::max<std::size_t>(1, threads);
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
        threads_.emplace_back([this, i, name, nice] {
            // Linux truncates thread names to 15 characters.
            std::string thread_name = (name + "-" + std::to_string(i)).substr(0, 15);
            pthread_setname_np(pthread_self(), thread_name.c_str());
            if (nice != 0) {
                // Relative to the thread's own (inherited) value: a service started under `nice`
                // keeps its pool below its request path all the same.
                errno = 0;
                const int base = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
                const int target = std::clamp((errno == 0 ? base : 0) + nice, -20, 19);
                if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), target) != 0) {
                    spdlog::warn("{}: cannot set nice {}: {}", thread_name, target,
                                 std::strerror(errno));
                }
            }
            context_.run();
        });
    }
}

BlockingPool::~BlockingPool() {
    work_.reset();
    for (auto& t : threads_) t.join();
}

}  // namespace joopang
