#pragma once
/// The HTTP/1.1 server: Asio C++20 coroutines with Beast's parser, one coroutine per connection,
/// connections spread over "reactors" (one io_context per I/O thread, so no strands), keep-alive,
/// a read timeout on every read and write (a stalled client is closed), header and body limits
/// (413 before the body is read, `Expect: 100-continue` honoured), bounded memory (a cap on
/// connections and on the bytes of all bodies being received), and graceful shutdown: Stop()
/// closes the listener and idle connections, lets requests in flight finish, and Wait() returns
/// once every connection has ended (or the drain deadline passed).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/http_types.hpp"

namespace joopang::http {

struct ServerSettings {
    std::string listen = "127.0.0.1:8080";
    std::chrono::milliseconds read_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = 16 << 10;
    /// Connections served at once; one more is answered 503 and closed.
    std::size_t max_connections = 10000;
    /// Bytes of request bodies being received at once, over all connections (body_budget.hpp).
    std::size_t max_buffered_body_bytes = 64 << 20;
    std::chrono::milliseconds drain_timeout{10'000};
};

/// Produces the response to one request. Runs on the connection's reactor thread; must not throw
/// (the server answers 500 if it does, and logs it as a bug).
using Handler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest&)>;

class Server {
  public:
    /// `reactors`: one executor per I/O thread; each must belong to an io_context that exactly one
    /// thread runs (connections are spread over them and never synchronised). The listener runs
    /// on the first.
    Server(std::vector<boost::asio::any_io_executor> reactors,
           ServerSettings settings,
           Handler handler);
    ~Server();
    /// Binds the listen socket. Throws on failure (a start-up error: port taken, bad address).
    void Bind();
    /// Starts accepting (binding first if Bind was not called).
    void Start();
    /// The bound port (useful with port 0).
    unsigned short port() const;
    /// Stops accepting and closes idle connections. Thread-safe; idempotent.
    void Stop();
    /// Blocks until all connections ended or the drain deadline passed.
    void Wait();

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace joopang::http
