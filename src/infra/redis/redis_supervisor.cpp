#include "infra/redis/redis_supervisor.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace joopang::redis {
namespace fs = std::filesystem;

namespace {

int FreeLoopbackPort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

}  // namespace

RedisSupervisor::RedisSupervisor(SupervisorSettings settings) : settings_(std::move(settings)) {
    dir_ = fs::absolute(fs::path(settings_.data_dir) / "redis").lexically_normal().string();
    socket_path_ = dir_ + "/redis.sock";
    if (socket_path_.size() >= sizeof(sockaddr_un{}.sun_path) - 1) {
        socket_path_.clear();
        port_ = FreeLoopbackPort();
        url_ = "redis://127.0.0.1:" + std::to_string(port_);
    } else {
        url_ = "unix://" + socket_path_;
    }
}

RedisSupervisor::~RedisSupervisor() { Stop(); }

bool RedisSupervisor::WaitUntilAccepting(int timeout_ms) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = -1;
        int rc = -1;
        if (!socket_path_.empty()) {
            fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path_.c_str());
            rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        } else {
            fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            addr.sin_port = htons(static_cast<uint16_t>(port_));
            rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        }
        if (rc == 0) {
            // A reply to PING (even -LOADING) proves the server is serving.
            const char ping[] = "*1\r\n$4\r\nPING\r\n";
            char buf[64];
            bool ok = ::write(fd, ping, sizeof ping - 1) == sizeof ping - 1 &&
                      ::read(fd, buf, sizeof buf) > 0;
            ::close(fd);
            if (ok) return true;
        } else if (fd >= 0) {
            ::close(fd);
        }
        if (pid_.load() == 0) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

void RedisSupervisor::SpawnLocked() {
    fs::create_directories(dir_);
    if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
    std::vector<std::string> args = {settings_.redis_server_binary,
                                     "--bind",
                                     "127.0.0.1",
                                     "--port",
                                     std::to_string(port_),
                                     "--dir",
                                     dir_,
                                     "--appendonly",
                                     "yes",
                                     "--appendfsync",
                                     "everysec",
                                     "--save",
                                     "",
                                     "--pidfile",
                                     dir_ + "/redis.pid",
                                     "--logfile",
                                     dir_ + "/redis.log",
                                     "--daemonize",
                                     "no",
                                     "--lazyfree-lazy-server-del",
                                     "yes",
                                     "--lazyfree-lazy-user-del",
                                     "yes",
                                     "--protected-mode",
                                     "no"};
    if (!socket_path_.empty()) {
        args.insert(args.end(), {"--unixsocket", socket_path_, "--unixsocketperm", "700"});
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed for redis-server");
    if (pid == 0) {
        // Child: die with the thread that supervises us; detach from our signal group so a
        // Ctrl-C reaches joopang, which then stops redis in order.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(1);
        ::setpgid(0, 0);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    pid_.store(pid);
    spdlog::info("started redis-server pid {} at {}", pid, url_);
}

void RedisSupervisor::MonitorLoop() {
    int backoff_ms = 100;
    {
        std::unique_lock lock(mu_);
        try {
            SpawnLocked();
        } catch (const std::exception& e) {
            start_error_ = e.what();
            started_ = true;
            cv_.notify_all();
            return;
        }
    }
    while (true) {
        int pid = pid_.load();
        if (pid == 0) break;
        int status = 0;
        pid_t r = ::waitpid(pid, &status, 0);
        if (r < 0 && errno == EINTR) continue;
        pid_.store(0);
        if (stopping_) break;
        spdlog::error("redis-server pid {} exited ({}); restarting in {} ms", pid,
                      WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                          : "status " + std::to_string(WEXITSTATUS(status)),
                      backoff_ms);
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms),
                         [&] { return stopping_.load(); }))
            break;
        try {
            SpawnLocked();
            restarts_.fetch_add(1);
            backoff_ms = 100;
        } catch (const std::exception& e) {
            spdlog::error("restarting redis-server failed: {}", e.what());
            backoff_ms = std::min(backoff_ms * 2, 5000);
        }
    }
}

void RedisSupervisor::Start() {
    monitor_ = std::thread([this] { MonitorLoop(); });
    // The first spawn happens on the monitor thread (PDEATHSIG is tied to the spawning thread).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (pid_.load() == 0 && std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(mu_);
            if (started_ && !start_error_.empty()) throw std::runtime_error(start_error_);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!WaitUntilAccepting(15000))
        throw std::runtime_error("redis-server did not start; see " + dir_ + "/redis.log");
}

void RedisSupervisor::Stop() {
    if (stopping_.exchange(true)) return;
    cv_.notify_all();
    int pid = pid_.load();
    if (pid > 0) {
        ::kill(pid, SIGTERM);
        for (int i = 0; i < 200 && pid_.load() != 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (pid_.load() != 0) ::kill(pid, SIGKILL);
    }
    if (monitor_.joinable()) monitor_.join();
}

}  // namespace joopang::redis
