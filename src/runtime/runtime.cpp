#include "runtime/runtime.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <thread>

#include "common/thread_setup.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/per_thread_client.hpp"

namespace joopang::runtime {
namespace asio = boost::asio;

namespace {

/// An io_context whose services can be shut down before any reactor is destroyed: objects kept
/// alive by one reactor's coroutines refer to the services of the others (the HTTP server has a
/// sweep timer on every reactor), so destroying the contexts one after the other let the last
/// one free them through services already deleted. Shutdown() shuts all down first.
class Reactor : public asio::io_context {
  public:
    using asio::execution_context::shutdown;
    Reactor() : asio::io_context(1) {}
};

}  // namespace

struct Runtime::Impl {
    RuntimeSettings settings;
    std::vector<std::unique_ptr<Reactor>> io;  // io[0] also runs the jobs
    std::unique_ptr<Reactor> background;       // stream consumers, below the I/O priority
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::thread> threads;
    std::shared_ptr<redis::Client> redis;             // one connection per I/O reactor
    std::shared_ptr<redis::Client> background_redis;  // the background reactor's own
    std::vector<std::pair<std::string, std::function<void()>>> stop_steps;
    std::unique_ptr<asio::signal_set> signals;
    std::promise<int> signal_received;
    bool shut_down = false;

    std::vector<Reactor*> AllReactors() const {
        std::vector<Reactor*> all;
        for (auto& r : io) all.push_back(r.get());
        if (background) all.push_back(background.get());
        return all;
    }
};

Runtime::Runtime(RuntimeSettings settings) : impl_(std::make_unique<Impl>()) {
    auto& s = *impl_;
    s.settings = std::move(settings);
    int io_threads = s.settings.io_threads > 0
                         ? s.settings.io_threads
                         : static_cast<int>(std::thread::hardware_concurrency());
    io_threads = std::max(io_threads, 1);
    for (int i = 0; i < io_threads; ++i) s.io.push_back(std::make_unique<Reactor>());
    if (s.settings.background_reactor) s.background = std::make_unique<Reactor>();
    for (auto* r : s.AllReactors()) s.work.push_back(asio::make_work_guard(*r));
    // Caught from now on; answered by WaitForSignal().
    s.signals = std::make_unique<asio::signal_set>(*s.io[0], SIGINT, SIGTERM);
    s.signals->async_wait([&s](const boost::system::error_code& ec, int sig) {
        if (!ec) s.signal_received.set_value(sig);
    });
    for (std::size_t i = 0; i < s.io.size(); ++i) {
        s.threads.emplace_back([&r = *s.io[i], i] {
            SetUpThisThread("io-" + std::to_string(i));
            redis::PerThreadClient::BindThisThread(i);
            r.run();
        });
    }
    if (s.background) {
        s.threads.emplace_back([&r = *s.background, nice = s.settings.background_nice] {
            SetUpThisThread("persist-io", nice);
            r.run();
        });
    }
}

Runtime::~Runtime() {
    // Reached without Shutdown() only when start-up failed: the components registered with
    // OnStop() are gone by now (declared after the runtime, destroyed before it), each stopped
    // by its own destructor; what is left is to close Redis and join the threads.
    impl_->stop_steps.clear();
    Shutdown();
    // Every reactor's services go before any reactor is destroyed (see Reactor).
    for (auto* r : impl_->AllReactors()) r->shutdown();
}

Status Runtime::ConnectRedis() {
    auto& s = *impl_;
    redis::ClientOptions options;
    options.url = s.settings.redis_url;
    options.wait_connected = false;
    options.client_name = "joopang";
    // Each reactor is run by one thread, and its client by that reactor alone.
    options.single_threaded_executor = true;
    std::vector<std::shared_ptr<redis::Client>> clients;
    for (auto* r : s.AllReactors()) {
        auto client =
            asio::co_spawn(*r, redis::Connect(r->get_executor(), options), asio::use_future).get();
        if (!client) {
            for (auto& c : clients) c->Close();
            return Error{client.error().code, "redis: " + client.error().message};
        }
        clients.push_back(*client);
    }
    if (s.background) {
        s.background_redis = clients.back();
        clients.pop_back();
    }
    s.redis = clients.size() == 1 ? clients.front()
                                  : std::make_shared<redis::PerThreadClient>(std::move(clients));
    return {};
}

bool Runtime::AwaitRedis(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto ping = [client = impl_->redis]() -> asio::awaitable<bool> {
        auto pong = co_await client->Command(redis::MakeArgs("PING"));
        co_return pong && !pong->IsError();
    };
    while (!asio::co_spawn(JobExecutor(), ping, asio::use_future).get()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

std::vector<asio::any_io_executor> Runtime::IoExecutors() const {
    std::vector<asio::any_io_executor> out;
    for (auto& r : impl_->io) out.push_back(r->get_executor());
    return out;
}

asio::any_io_executor Runtime::JobExecutor() const { return impl_->io[0]->get_executor(); }

asio::any_io_executor Runtime::BackgroundExecutor() const {
    return impl_->background->get_executor();
}

std::shared_ptr<redis::Client> Runtime::Redis() const { return impl_->redis; }

std::shared_ptr<redis::Client> Runtime::BackgroundRedis() const { return impl_->background_redis; }

void Runtime::OnStop(std::string name, std::function<void()> stop) {
    impl_->stop_steps.emplace_back(std::move(name), std::move(stop));
}

int Runtime::WaitForSignal() { return impl_->signal_received.get_future().get(); }

void Runtime::Shutdown() {
    auto& s = *impl_;
    if (s.shut_down) return;
    s.shut_down = true;
    for (auto it = s.stop_steps.rbegin(); it != s.stop_steps.rend(); ++it) {
        spdlog::debug("stopping {}", it->first);
        try {
            it->second();
        } catch (const std::exception& e) {
            // The rest must still stop, and the threads be joined.
            spdlog::error("stopping {} failed: {}", it->first, e.what());
        }
    }
    s.stop_steps.clear();
    if (s.redis) s.redis->Close();
    if (s.background_redis) s.background_redis->Close();
    s.work.clear();
    for (auto* r : s.AllReactors()) r->stop();
    for (auto& t : s.threads) t.join();
    s.threads.clear();
}

std::string InstanceName() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return std::string(host) + "-" + std::to_string(getpid());
}

}  // namespace joopang::runtime
