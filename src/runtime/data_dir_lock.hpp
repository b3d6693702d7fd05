#pragma once
/// One owner per data dir, with two locks (flock):
/// - <data-dir>/joopang.owner.lock, held by the owning joopang alone (close-on-exec, so no child
///   inherits it): free exactly when no joopang owns the dir. A second joopang finds it held and
///   refuses at once, naming the owner's pid (written in it).
/// - <data-dir>/joopang.lock, held by the owner and inherited by the redis-server it starts: free
///   only once the owner and every redis-server it started have exited. A joopang restarted at
///   once after a crash (SIGKILL) finds the owner lock free but this one held by the old
///   redis-server, which got SIGTERM when its parent died and may still be writing its AOF; it
///   waits — never two servers on one AOF, and never the old one deleting the new one's socket
///   on its way out.
/// The kernel releases both with the processes: no pid needs to be interpreted (a zombie, a
/// recycled pid or a renamed binary cannot mislead it).

#include <chrono>
#include <functional>
#include <string>

namespace joopang::runtime {

class DataDirLock {
  public:
    /// Takes both locks, waiting up to `wait` for a previous owner's leftovers (its redis-server)
    /// to exit; `progress` (if set) is called about every two seconds while waiting, with what
    /// is awaited. Throws std::runtime_error when a live joopang owns the dir, or when the wait
    /// runs out.
    static DataDirLock Acquire(const std::string& data_dir,
                               std::chrono::milliseconds wait,
                               const std::function<void(const std::string&)>& progress = {});
    DataDirLock(DataDirLock&& other) noexcept : owner_fd_(other.owner_fd_), fd_(other.fd_) {
        other.owner_fd_ = other.fd_ = -1;
    }
    DataDirLock& operator=(DataDirLock&&) = delete;
    DataDirLock(const DataDirLock&) = delete;
    /// Closes this process's descriptor (children that inherited it keep the lock until they
    /// exit).
    ~DataDirLock();

  private:
    DataDirLock(int owner_fd, int fd) : owner_fd_(owner_fd), fd_(fd) {}
    int owner_fd_ = -1;
    int fd_ = -1;
};

}  // namespace joopang::runtime
