#pragma once
/// The process's threads and their event loops, one Redis client per loop, and the ordered
/// shutdown — everything `main` would otherwise choreograph by hand.
///
/// Reactors: one single-threaded io_context per I/O thread ("io-0" … "io-N"); HTTP connections
/// are spread over them and need no strands, and each has a Redis client of its own, so a request
/// is answered without leaving its thread. The first reactor also runs the periodic jobs. An
/// optional background reactor ("persist-io") runs the stream consumers at a lower CPU priority
/// (`background_nice`), with its own Redis client: draining a backlog never holds up a request.
///
/// Life cycle: construct (threads start, nothing connected) → ConnectRedis() → build and start
/// components, registering how each stops with OnStop() → WaitForSignal() → Shutdown(): the stop
/// steps in reverse order of registration (the last started stops first), then the Redis clients
/// close and the threads join. Components are declared after the runtime, so an exception during
/// start-up destroys (and so stops) them first; the runtime's destructor then closes Redis and
/// joins the threads, without the stop steps of components that are gone.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace joopang::redis {
class Client;
}

namespace joopang::runtime {

struct RuntimeSettings {
    /// I/O threads (reactors); 0 = one per core.
    int io_threads = 0;
    /// Whether a background reactor runs (for stream consumers).
    bool background_reactor = false;
    /// Nice steps the background reactor's thread runs below the I/O threads.
    int background_nice = 10;
    /// The Redis every reactor connects to.
    std::string redis_url;
};

class Runtime {
  public:
    explicit Runtime(RuntimeSettings settings);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    /// Connects one Redis client per reactor (waiting for each handshake). An error leaves the
    /// runtime as it was: Shutdown() stops it.
    Status ConnectRedis();

    /// Waits until Redis answers on the I/O reactors' client, for at most `limit`; false if it
    /// did not. The clients connect in the background (the service starts without Redis), so the
    /// start-up steps that read Redis once — the catalog log's end, the replicas behind
    /// `--issue-durability auto` — wait here rather than read a connection still opening.
    bool AwaitRedis(std::chrono::milliseconds limit);

    /// The I/O reactors' executors (HTTP connections, request handling); the first runs jobs.
    std::vector<boost::asio::any_io_executor> IoExecutors() const;
    boost::asio::any_io_executor JobExecutor() const;
    /// The background reactor's executor; precondition: settings.background_reactor.
    boost::asio::any_io_executor BackgroundExecutor() const;

    /// A client for the I/O reactors: each call goes to the calling thread's own connection.
    std::shared_ptr<redis::Client> Redis() const;
    /// The background reactor's client; precondition: settings.background_reactor.
    std::shared_ptr<redis::Client> BackgroundRedis() const;

    /// Registers how a started component stops; steps run last-registered first.
    void OnStop(std::string name, std::function<void()> stop);

    /// Blocks until SIGINT or SIGTERM; returns the signal.
    int WaitForSignal();
    /// Runs the stop steps, closes the Redis clients and joins the threads. Idempotent.
    void Shutdown();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// A name unique to this process ("host-pid"), for stream consumers and lease tokens.
std::string InstanceName();

}  // namespace joopang::runtime
