// Micro-benchmark of joopang's Redis client: N coroutines issue INCR on one key through one client
// (one shared, auto-pipelined connection) for a fixed time, then ops/s is printed. Compare with
// `redis-benchmark -p P -c 64 -n 2000000 -P 16 -t incr` against the same server
// (docs/redis-client.md).
//
// usage: redis_incr_bench [--url redis://127.0.0.1:6379] [--seconds 10] [--concurrency 64]
//                         [--threads 1] [--key bench:incr]

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "infra/redis/client.hpp"

namespace asio = boost::asio;
using joopang::redis::Client;
using joopang::redis::MakeArgs;

namespace {

struct Settings {
    std::string url = "redis://127.0.0.1:6379";
    double seconds = 10;
    int concurrency = 64;
    int threads = 1;
    std::string key = "bench:incr";
};

[[noreturn]] void Usage() {
    std::fprintf(stderr,
                 "usage: redis_incr_bench [--url URL] [--seconds S] [--concurrency N] "
                 "[--threads T] [--key K]\n");
    std::exit(2);
}

Settings Parse(int argc, char** argv) {
    Settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) Usage();
        const std::string v = argv[++i];
        if (a == "--url") {
            s.url = v;
        } else if (a == "--seconds") {
            s.seconds = std::atof(v.c_str());
        } else if (a == "--concurrency") {
            s.concurrency = std::atoi(v.c_str());
        } else if (a == "--threads") {
            s.threads = std::atoi(v.c_str());
        } else if (a == "--key") {
            s.key = v;
        } else {
            Usage();
        }
    }
    if (s.seconds <= 0 || s.concurrency <= 0 || s.threads <= 0) Usage();
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    const Settings s = Parse(argc, argv);
    asio::io_context io;
    std::vector<std::thread> pool;
    auto work = asio::make_work_guard(io);
    for (int i = 0; i < s.threads; ++i) pool.emplace_back([&] { io.run(); });

    auto connected =
        asio::co_spawn(io, joopang::redis::Connect(io.get_executor(), s.url), asio::use_future)
            .get();
    if (!connected) {
        std::fprintf(stderr, "connect %s: %s\n", s.url.c_str(), connected.error().message.c_str());
        work.reset();
        io.stop();
        for (auto& t : pool) t.join();
        return 1;
    }
    std::shared_ptr<Client> client = *connected;

    std::atomic<bool> measuring{false}, stop{false};
    std::atomic<long> ops{0}, errors{0};
    std::atomic<int> running{s.concurrency};
    for (int i = 0; i < s.concurrency; ++i) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                long mine = 0;
                while (!stop.load(std::memory_order_relaxed)) {
                    auto r = co_await client->Command(MakeArgs("INCR", s.key));
                    if (!r || !r->IsInteger()) {
                        errors.fetch_add(1, std::memory_order_relaxed);
                    } else if (measuring.load(std::memory_order_relaxed)) {
                        ++mine;
                    }
                }
                ops.fetch_add(mine);
                running.fetch_sub(1);
            },
            asio::detached);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // warm-up
    measuring = true;
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(s.seconds));
    measuring = false;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stop = true;
    while (running.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    std::printf(
        "redis_incr_bench: %ld INCR in %.2f s = %.0f ops/s (concurrency %d, threads %d, "
        "errors %ld)\n",
        ops.load(), elapsed, static_cast<double>(ops.load()) / elapsed, s.concurrency, s.threads,
        errors.load());
    client->Close();
    client.reset();
    work.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    io.stop();
    for (auto& t : pool) t.join();
    return errors.load() == 0 ? 0 : 1;
}
