#pragma once
/// One owner per data dir. The process that runs a data dir's embedded redis-server holds an
/// exclusive lock on <data-dir>/joopang.lock (flock) for its whole life, and writes its pid there.
/// The redis-server it starts inherits the locked file, so the lock is free only once both the
/// owner and every redis-server it started have exited: a joopang restarted at once after a crash
/// (SIGKILL) waits for the old redis-server, which got SIGTERM when its parent died, to finish
/// writing its AOF and go — never two servers on one AOF, and never the old one deleting the new
/// one's socket on its way out. A second joopang started while the owner lives refuses at once.

#include <chrono>
#include <functional>
#include <string>

namespace joopang::runtime {

class DataDirLock {
  public:
    /// Takes the lock, waiting up to `wait` for a previous owner's leftovers (its redis-server)
    /// to exit; `progress` (if set) is called about every two seconds while waiting, with what
    /// is awaited. Throws std::runtime_error when a live joopang owns the dir, or when the wait
    /// runs out.
    static DataDirLock Acquire(const std::string& data_dir,
                               std::chrono::milliseconds wait,
                               const std::function<void(const std::string&)>& progress = {});
    DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    DataDirLock& operator=(DataDirLock&&) = delete;
    DataDirLock(const DataDirLock&) = delete;
    /// Closes this process's descriptor (children that inherited it keep the lock until they
    /// exit).
    ~DataDirLock();

  private:
    explicit DataDirLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace joopang::runtime
