#include "runtime/data_dir_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace joopang::runtime {
namespace fs = std::filesystem;

namespace {

/// The pid written in the lock file, or 0.
int HolderPid(int fd) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    return std::atoi(buf);
}

/// True when `pid` is a live joopang (not a dead one's recycled pid).
bool IsLiveJoopang(int pid) {
    if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) return false;
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
    if (ec) return true;  // alive but unreadable: assume it is the owner
    return exe.filename().string().rfind("joopang", 0) == 0;
}

std::string RedisPidOf(const std::string& data_dir) {
    std::ifstream in(fs::path(data_dir) / "redis" / "redis.pid");
    std::string pid;
    std::getline(in, pid);
    return pid.empty() ? "unknown" : pid;
}

}  // namespace

DataDirLock DataDirLock::Acquire(const std::string& data_dir,
                                 std::chrono::milliseconds wait,
                                 const std::function<void(const std::string&)>& progress) {
    fs::create_directories(data_dir);
    const std::string path = (fs::path(data_dir) / "joopang.lock").string();
    // Deliberately not O_CLOEXEC: the embedded redis-server inherits the locked file.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    const auto start = std::chrono::steady_clock::now();
    auto last_report = start - std::chrono::seconds(10);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            int err = errno;
            ::close(fd);
            throw std::runtime_error("cannot lock " + path + ": " + std::strerror(err));
        }
        int holder = HolderPid(fd);
        if (IsLiveJoopang(holder)) {
            ::close(fd);
            throw std::runtime_error("the data dir " + data_dir + " is in use by joopang pid " +
                                     std::to_string(holder) +
                                     " (one process owns a data dir and its embedded "
                                     "redis-server; give others --redis and --database)");
        }
        auto now = std::chrono::steady_clock::now();
        if (now - start > wait) {
            ::close(fd);
            throw std::runtime_error(
                "gave up waiting for the redis-server of a previous joopang (pid " +
                std::to_string(holder) + ") of " + data_dir + " to exit (redis-server pid " +
                RedisPidOf(data_dir) + ")");
        }
        if (progress && now - last_report >= std::chrono::seconds(2)) {
            last_report = now;
            progress("waiting for the redis-server (pid " + RedisPidOf(data_dir) +
                     ") left by joopang pid " + std::to_string(holder) +
                     " to exit before starting a new one on " + data_dir);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        int err = errno;
        ::close(fd);
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(err));
    }
    return DataDirLock(fd);
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace joopang::runtime
