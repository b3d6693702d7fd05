#pragma once
/// Runs a private redis-server for the embedded default: data and AOF under `<data-dir>/redis/`,
/// listening on a unix socket there (or a loopback port when the path is too long for a socket).
/// A monitor thread restarts the server when it dies (with backoff); Stop() ends it with SIGTERM
/// (SIGKILL after a grace period). The child also gets PR_SET_PDEATHSIG so that it never outlives
/// a joopang that was killed.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace joopang::redis {

struct SupervisorSettings {
    std::string data_dir = "./data";
    std::string redis_server_binary = "redis-server";
};

class RedisSupervisor {
  public:
    explicit RedisSupervisor(SupervisorSettings settings);
    ~RedisSupervisor();
    RedisSupervisor(const RedisSupervisor&) = delete;
    RedisSupervisor& operator=(const RedisSupervisor&) = delete;

    /// Starts the server and waits (up to 15 s) until it accepts connections. Throws on failure.
    void Start();
    /// Stops the server and the monitor. Idempotent.
    void Stop();
    /// "unix:///…/redis.sock" or "redis://127.0.0.1:port".
    std::string Url() const { return url_; }
    /// Current child pid (0 when not running).
    int pid() const { return pid_.load(); }
    /// How many times the server was restarted after dying.
    int restarts() const { return restarts_.load(); }

  private:
    void SpawnLocked();
    void MonitorLoop();
    bool WaitUntilAccepting(int timeout_ms) const;

    SupervisorSettings settings_;
    std::string dir_;
    std::string socket_path_;
    int port_ = 0;
    std::string url_;
    std::atomic<int> pid_{0};
    std::atomic<int> restarts_{0};
    std::atomic<bool> stopping_{false};
    std::mutex mu_;
    std::condition_variable cv_;
    bool started_ = false;
    std::string start_error_;
    std::thread monitor_;
};

}  // namespace joopang::redis
