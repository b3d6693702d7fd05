#include "runtime/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace joopang::runtime {
namespace fs = std::filesystem;

namespace {

/// Closes a descriptor unless released (so that no exit path leaks it).
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

int OpenLockFile(const std::string& path, int extra_flags) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | extra_flags, 0600);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    return fd;
}

std::string FirstLine(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line.empty() ? "unknown" : line;
}

}  // namespace

DataDirLock DataDirLock::Acquire(const std::string& data_dir,
                                 std::chrono::milliseconds wait,
                                 const std::function<void(const std::string&)>& progress) {
    fs::create_directories(data_dir);
    const fs::path owner_path = fs::path(data_dir) / "joopang.owner.lock";
    const fs::path server_path = fs::path(data_dir) / "joopang.lock";

    // 1. The owner lock: held means a live joopang owns the dir.
    Fd owner{OpenLockFile(owner_path.string(), O_CLOEXEC)};
    if (::flock(owner.fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            throw std::runtime_error("cannot lock " + owner_path.string() + ": " +
                                     std::strerror(errno));
        throw std::runtime_error("the data dir " + data_dir + " is in use by joopang pid " +
                                 FirstLine(owner_path) +
                                 " (one process owns a data dir and its embedded redis-server; "
                                 "give others --redis and --database)");
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(owner.fd, 0) != 0 ||
        ::pwrite(owner.fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
        throw std::runtime_error("cannot write " + owner_path.string());

    // 2. The server lock (inherited by our redis-server): held means the previous owner's
    // redis-server is still exiting.
    // Deliberately not O_CLOEXEC: the embedded redis-server inherits the locked file.
    Fd server{OpenLockFile(server_path.string(), 0)};
    const auto start = std::chrono::steady_clock::now();
    auto last_report = start - std::chrono::seconds(10);
    while (::flock(server.fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            throw std::runtime_error("cannot lock " + server_path.string() + ": " +
                                     std::strerror(errno));
        const std::string redis_pid = FirstLine(fs::path(data_dir) / "redis" / "redis.pid");
        auto now = std::chrono::steady_clock::now();
        if (now - start > wait)
            throw std::runtime_error("gave up waiting for the redis-server (pid " + redis_pid +
                                     ") of a previous joopang of " + data_dir + " to exit");
        if (progress && now - last_report >= std::chrono::seconds(2)) {
            last_report = now;
            progress("waiting for the redis-server (pid " + redis_pid +
                     ") of a previous joopang to exit before starting a new one on " + data_dir);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return DataDirLock(owner.release(), server.release());
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
    if (owner_fd_ >= 0) ::close(owner_fd_);
}

}  // namespace joopang::runtime
