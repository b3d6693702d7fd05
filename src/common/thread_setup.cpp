#include "common/thread_setup.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace joopang {

void SetUpThisThread(const std::string& name, int nice_steps) {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    if (nice_steps == 0) return;
    // Relative to the thread's own (inherited) value: a service started under `nice` keeps its
    // background threads below its request path all the same.
    const auto tid = static_cast<id_t>(gettid());
    errno = 0;
    const int base = getpriority(PRIO_PROCESS, tid);
    const int target = std::clamp((errno == 0 ? base : 0) + nice_steps, -20, 19);
    if (setpriority(PRIO_PROCESS, tid, target) != 0)
        spdlog::warn("{}: cannot set nice {}: {}", name, target, std::strerror(errno));
}

}  // namespace joopang
