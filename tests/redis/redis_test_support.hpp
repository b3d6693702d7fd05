#pragma once
// Test helpers: private redis-server processes on free loopback ports (data in a temp dir,
// killed with the test process thanks to PR_SET_PDEATHSIG), and a way to run coroutines.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "infra/redis/client.hpp"

namespace joopang::redis::testing {

inline bool PortFree(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

/// A port that is free now (and, with `with_bus`, port + 10000 too, for cluster nodes).
inline int FreePort(bool with_bus = false) {
    static std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> dist(20000, 50000);
    for (int i = 0; i < 1000; ++i) {
        const int p = dist(rng);
        if (PortFree(p) && (!with_bus || PortFree(p + 10000))) return p;
    }
    throw std::runtime_error("no free port");
}

class TempDir {
  public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "joopang-redis-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

/// Sends PING over a fresh TCP connection; true on any answer (+PONG, or -NOAUTH when a password
/// is required).
inline bool Pingable(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        const char ping[] = "*1\r\n$4\r\nPING\r\n";
        if (::write(fd, ping, sizeof ping - 1) == static_cast<ssize_t>(sizeof ping - 1)) {
            char buf[64];
            const ssize_t n = ::read(fd, buf, sizeof buf);
            ok = n >= 5 && (buf[0] == '+' || buf[0] == '-') && std::string(buf, 5) != "-LOAD";
        }
    }
    ::close(fd);
    return ok;
}

/// One redis-server child process. Killed by the destructor, and by the kernel if the test dies.
class RedisServer {
  public:
    RedisServer(int port, std::filesystem::path dir, std::vector<std::string> extra = {})
        : port_(port), dir_(std::move(dir)), extra_(std::move(extra)) {
        std::filesystem::create_directories(dir_);
    }
    ~RedisServer() { Kill(); }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    void Start() {
        std::vector<std::string> args = {"redis-server",
                                         "--port",
                                         std::to_string(port_),
                                         "--bind",
                                         "127.0.0.1",
                                         "--save",
                                         "",
                                         "--appendonly",
                                         "no",
                                         "--daemonize",
                                         "no",
                                         "--dir",
                                         dir_.string(),
                                         "--logfile",
                                         (dir_ / "redis.log").string()};
        args.insert(args.end(), extra_.begin(), extra_.end());
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(1);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execvp("redis-server", argv.data());
            ::_exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!Pingable(port_)) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("redis-server exited at start; see " +
                                         (dir_ / "redis.log").string());
            }
            if (std::chrono::steady_clock::now() > deadline) {
                Kill();
                throw std::runtime_error("redis-server did not start");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    void Kill() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    int port() const { return port_; }
    std::string Url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  private:
    int port_;
    std::filesystem::path dir_;
    std::vector<std::string> extra_;
    pid_t pid_ = -1;
};

/// Stops a coroutine test (gtest's ASSERT_* cannot return from a coroutine): throws `what`.
inline void Require(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what);
}

/// Runs a shell command and returns its standard output.
inline std::string Shell(const std::string& command) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
}

/// Runs `make()` as a coroutine on an io_context served by `threads` threads until it finishes;
/// rethrows its exception.
inline void RunCoroutine(std::function<boost::asio::awaitable<void>(boost::asio::io_context&)> make,
                         int threads = 1) {
    boost::asio::io_context io;
    std::exception_ptr error;
    boost::asio::co_spawn(io, make(io), [&](std::exception_ptr e) {
        error = e;
        io.stop();
    });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
    io.run();
    io.stop();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

/// A test fixture with an io_context run by two threads (started in SetUp, stopped in TearDown),
/// `Run()` to wait for a coroutine from the test body, and a list of clients closed at the end.
template <class ClientT>
class IoThreadsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    void TearDown() override {
        for (auto& c : clients_) c->Close();
        clients_.clear();
        work_.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        io_.stop();
        for (auto& t : threads_) t.join();
    }

    template <class T>
    T Run(boost::asio::awaitable<T> a) {
        return boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future).get();
    }

    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
        boost::asio::make_work_guard(io_);
    std::vector<std::thread> threads_;
    std::vector<std::shared_ptr<ClientT>> clients_;
};

/// IoThreadsTest with one redis-server for the whole test suite: started before its first test,
/// killed after its last.
template <class ClientT>
class OneServerTest : public IoThreadsTest<ClientT> {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        server_ = new RedisServer(FreePort(), dir_->path() / "main");
        server_->Start();
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
        delete dir_;
        dir_ = nullptr;
    }

    static inline TempDir* dir_ = nullptr;
    static inline RedisServer* server_ = nullptr;
};

/// OneServerTest with a client connected in SetUp (`client_`), and `Must()` for a command that
/// must succeed.
class OneClientTest : public OneServerTest<Client> {
  protected:
    void SetUp() override {
        OneServerTest<Client>::SetUp();
        auto c = this->Run(Connect(this->io_.get_executor(), server_->Url()));
        if (!c) throw std::runtime_error("connect failed: " + c.error().message);
        client_ = *c;
        this->clients_.push_back(client_);
    }

    Reply Must(Args args) {
        auto r = this->Run(client_->Command(std::move(args)));
        if (!r) throw std::runtime_error(r.error().message);
        return *r;
    }

    std::shared_ptr<Client> client_;
};

}  // namespace joopang::redis::testing
