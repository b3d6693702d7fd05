#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "http/body_budget.hpp"
#include "http/error_response.hpp"
#include "http/plain_request.hpp"
#include "http/request_parser.hpp"
#include "http/response_writer.hpp"

namespace joopang::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(use_awaitable);
constexpr std::size_t kReadChunk = 8192;
constexpr std::size_t kKeptBodyCapacity = 64 << 10;

namespace {

std::pair<std::string, unsigned short> SplitHostPort(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("--listen must be host:port");
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::runtime_error("--listen port out of range");
    return {host.empty() ? "0.0.0.0" : host, static_cast<unsigned short>(port)};
}

/// An error answered by the server itself (before routing); `path` is the request target's path
/// when the start line was read.
HttpResponse ProtocolError(ErrorCode code,
                           std::string message,
                           std::string_view path,
                           int status_override = 0) {
    HttpResponse r = ErrorResponse(Error{code, std::move(message)}, path);
    if (status_override) r.status = status_override;
    r.close = true;
    r.timing = ServerTiming{};  // refused before any handler ran: nothing spent anywhere
    return r;
}

bool IsParseError(const beast::error_code& ec) {
    return ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

}  // namespace

/// One connection. Touched only on its reactor's thread: the session coroutine and the reactor's
/// timeout sweep both run there, so nothing here needs a lock or a strand.
struct Connection {
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    /// The current read or write must finish by then, or the sweep cancels it. Clock::max()
    /// while the handler runs (the handler's own calls carry their own timeouts).
    Clock::time_point deadline = Clock::time_point::max();
    bool busy = false;
};

/// One I/O thread's share of the connections. Each reactor's executor belongs to an io_context
/// run by exactly one thread, so a connection never needs a strand (measured: a strand per
/// connection cost ~20 % of the CPU per request, see docs/architecture.md).
struct Reactor {
    explicit Reactor(asio::any_io_executor ex) : executor(ex), sweep_timer(ex) {}
    asio::any_io_executor executor;
    asio::steady_timer sweep_timer;
    std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
};

struct Server::Impl : std::enable_shared_from_this<Impl> {
    Impl(std::vector<asio::any_io_executor> executors, ServerSettings s, Handler h)
        : settings(std::move(s)),
          handler(std::move(h)),
          acceptor(executors.at(0)),
          body_budget(settings.max_buffered_body_bytes) {
        for (auto& ex : executors) reactors.push_back(std::make_unique<Reactor>(ex));
        // Timeouts are enforced by a periodic sweep instead of a timer per read: arming a timer
        // on every read and write was measurable per request. The sweep's period bounds how late
        // a timeout can fire.
        auto shortest = std::min(settings.read_timeout, settings.idle_timeout);
        sweep_period = std::clamp<std::chrono::milliseconds>(
            shortest / 10, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
    }

    ServerSettings settings;
    Handler handler;
    std::vector<std::unique_ptr<Reactor>> reactors;
    tcp::acceptor acceptor;  // on reactor 0
    std::chrono::milliseconds sweep_period;
    std::atomic<bool> stopping{false};
    std::size_t next_reactor = 0;  // accept loop only

    BodyBudget body_budget;  // shared by the connections of every reactor

    std::mutex mu;
    std::condition_variable cv;
    std::size_t live_connections = 0;  // guarded by mu; counts accepted sockets until they close

    awaitable<void> AcceptLoop();
    awaitable<void> Sweep(Reactor& reactor);
    awaitable<void> Session(Reactor& reactor, std::shared_ptr<Connection> conn);
    awaitable<bool> Send(Connection& conn, const std::string& bytes);
    awaitable<void> SendAndDrain(Connection& conn, const HttpResponse& response, int version);
};

awaitable<bool> Server::Impl::Send(Connection& conn, const std::string& bytes) {
    conn.deadline = Clock::now() + settings.read_timeout;
    auto [ec, n] = co_await asio::async_write(conn.socket, asio::buffer(bytes), kTuple);
    co_return !ec;
}

awaitable<void> Server::Impl::SendAndDrain(Connection& conn,
                                           const HttpResponse& response,
                                           int version) {
    // Answer, then read and discard what the client is still sending (bounded), so it sees the
    // response instead of a reset.
    std::string bytes;
    SerializeResponse(response, {version, false, false}, bytes);
    if (!co_await Send(conn, bytes)) co_return;
    beast::error_code ignored;
    conn.socket.shutdown(tcp::socket::shutdown_send, ignored);
    std::array<char, 16384> scratch;
    std::size_t drained = 0;
    conn.deadline = Clock::now() + std::chrono::seconds(5);
    while (drained < (64u << 20)) {
        auto [ec, n] = co_await conn.socket.async_read_some(asio::buffer(scratch), kTuple);
        if (ec) break;
        drained += n;
    }
}

awaitable<void> Server::Impl::Session(Reactor& reactor, std::shared_ptr<Connection> conn) {
    auto self = shared_from_this();
    reactor.connections.emplace(conn.get(), conn);
    auto& socket = conn->socket;
    beast::flat_buffer buffer;
    std::string remote;
    {
        beast::error_code ec;
        auto ep = socket.remote_endpoint(ec);
        if (!ec) remote = ep.address().to_string();
    }
    std::string out;
    // Reused by every request of the connection (their capacity stays; see RequestParser).
    HttpRequest request;
    std::string target;
    for (;;) {
        if (stopping) break;
        conn->busy = false;
        if (buffer.size() == 0) {
            // Idle keep-alive wait for the first byte of the next request.
            conn->deadline = Clock::now() + settings.idle_timeout;
            auto [ec, n] = co_await socket.async_read_some(buffer.prepare(kReadChunk), kTuple);
            if (ec) break;
            buffer.commit(n);
        }
        conn->busy = true;
        int version = 11;
        bool client_keep_alive = true;
        // A plain request that arrived whole is parsed straight from the buffer
        // (plain_request.hpp); anything else, and every malformed request, goes to Beast.
        std::optional<PlainRequest> plain;
        // The body's bytes stay counted until the response is sent (end of this iteration).
        BodyBudgetHold body_hold;
        if (buffer.size() > 0) {
            const auto data = buffer.data();
            plain = ParsePlainRequest({static_cast<const char*>(data.data()), data.size()},
                                      settings.max_header_bytes, settings.max_body_bytes, request,
                                      target);
        }
        if (plain) {
            buffer.consume(plain->consumed);
            version = plain->version;
            client_keep_alive = plain->keep_alive;
        } else {
            RequestParser parser(request, target);
            parser.set_budget(&body_budget);
            parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
            parser.body_limit(settings.max_body_bytes);
            parser.eager(true);
            conn->deadline = Clock::now() + settings.read_timeout;
            // Feeds the parser from the buffer and reads only when it needs more: a request that
            // arrived whole (the common case) is parsed without another asynchronous operation.
            beast::error_code ec;
            bool continue_sent = false;
            bool closed_by_peer = false;
            while (!ec && !parser.is_done()) {
                if (buffer.size() > 0) {
                    std::size_t used = parser.put(buffer.data(), ec);
                    buffer.consume(used);
                    if (ec == bhttp::error::need_more) {
                        ec = {};
                    } else if (ec) {
                        break;
                    } else {
                        if (parser.is_header_done() && parser.expects_continue() &&
                            !continue_sent && !parser.is_done()) {
                            continue_sent = true;
                            std::string cont(kContinueResponse);
                            if (!co_await Send(*conn, cont)) {
                                closed_by_peer = true;
                                break;
                            }
                            conn->deadline = Clock::now() + settings.read_timeout;
                        }
                        if (used > 0) continue;
                    }
                }
                auto [rec, n] = co_await socket.async_read_some(buffer.prepare(kReadChunk), kTuple);
                if (rec == asio::error::eof && parser.got_some()) {
                    parser.put_eof(ec);  // a request cut short: partial_message
                    if (!ec && !parser.is_done()) ec = bhttp::error::partial_message;
                } else if (rec) {
                    closed_by_peer = true;  // EOF between requests, reset, or a timeout
                } else {
                    buffer.commit(n);
                }
                if (closed_by_peer) break;
            }
            if (closed_by_peer) break;
            if (ec) {
                const std::string& path = parser.request().path;
                const bool in_body = parser.is_header_done();
                const int refusal_version = in_body ? parser.version() : 11;
                // Built outside the co_await: GCC 12 mishandles conditional temporaries inside one.
                std::optional<HttpResponse> refusal;
                if (parser.over_budget()) {
                    // Not this request's fault: too many bodies are arriving at once.
                    refusal = ProtocolError(ErrorCode::kUnavailable,
                                            "the server is receiving too many request bodies at "
                                            "once; retry shortly",
                                            path);
                    refusal->headers.emplace_back("Retry-After", "1");
                } else if (ec == bhttp::error::body_limit) {
                    // A declared Content-Length above the limit is refused before the body is read.
                    std::string message = "request body too large";
                    if (!in_body) {
                        message = "request body exceeds " +
                                  std::to_string(settings.max_body_bytes) + " bytes";
                    }
                    refusal = ProtocolError(ErrorCode::kPayloadTooLarge, std::move(message), path);
                } else if (ec == bhttp::error::header_limit) {
                    refusal = ProtocolError(ErrorCode::kValidationFailed,
                                            "request headers too large", path, 431);
                } else if (!parser.framing_error().empty()) {
                    refusal =
                        ProtocolError(ErrorCode::kValidationFailed,
                                      "malformed HTTP request: " + parser.framing_error(), path);
                } else if (IsParseError(ec)) {
                    std::string message = "malformed HTTP request";
                    if (in_body) message += " body";
                    refusal = ProtocolError(ErrorCode::kValidationFailed, std::move(message), path);
                }
                if (refusal) co_await SendAndDrain(*conn, *refusal, refusal_version);
                break;  // a request cut short just closes
            }
            version = parser.version();
            client_keep_alive = parser.keep_alive();
            body_hold.budget = &body_budget;
            body_hold.bytes = parser.ReleaseBudget();
        }
        conn->deadline = Clock::time_point::max();
        request.remote = remote;
        const bool head = request.method == "HEAD";

        HttpResponse response;
        try {
            response = co_await handler(request);
        } catch (const std::exception& e) {
            spdlog::error("handler threw for {} {}: {}", request.method, request.path, e.what());
            response = ErrorResponse(Error::Internal("internal error"), request.path);
        }
        bool keep_alive = client_keep_alive && !response.close && !stopping;
        out.clear();
        SerializeResponse(response, {version, keep_alive, head}, out);
        // An idle connection does not keep a large body's memory (its capacity would otherwise
        // stay with the connection for the next request).
        if (request.body.capacity() > kKeptBodyCapacity) std::string().swap(request.body);
        if (!co_await Send(*conn, out)) break;
        if (out.capacity() > kKeptBodyCapacity) std::string().swap(out);
        if (!keep_alive) {
            beast::error_code ignored;
            socket.shutdown(tcp::socket::shutdown_send, ignored);
            break;
        }
    }
    conn->busy = false;
    beast::error_code ignored;
    socket.close(ignored);
    reactor.connections.erase(conn.get());
    std::lock_guard lock(mu);
    --live_connections;
    cv.notify_all();
}

awaitable<void> Server::Impl::Sweep(Reactor& reactor) {
    auto self = shared_from_this();
    for (;;) {
        reactor.sweep_timer.expires_after(sweep_period);
        co_await reactor.sweep_timer.async_wait(kTuple);
        if (stopping && reactor.connections.empty()) break;
        auto now = Clock::now();
        for (auto& [ptr, conn] : reactor.connections) {
            if (now >= conn->deadline) {
                // Its read or write is overdue: cancelling fails that operation, and the session
                // closes the connection.
                conn->deadline = Clock::time_point::max();
                beast::error_code ignored;
                conn->socket.cancel(ignored);
            }
        }
    }
}

awaitable<void> Server::Impl::AcceptLoop() {
    auto self = shared_from_this();
    while (!stopping) {
        Reactor& reactor = *reactors[next_reactor++ % reactors.size()];
        auto [ec, socket] = co_await acceptor.async_accept(reactor.executor, kTuple);
        if (ec) {
            if (stopping || ec == asio::error::operation_aborted) break;
            spdlog::warn("accept failed: {}", ec.message());
            continue;
        }
        beast::error_code ignored;
        {
            std::lock_guard lock(mu);
            if (live_connections >= settings.max_connections) {
                // Over the limit: a short answer and close, rather than a socket left to hang
                // (the request is not read: the answer is written at once, best effort).
                HttpResponse busy = ProtocolError(ErrorCode::kUnavailable,
                                                  "too many connections; retry shortly", "/");
                busy.headers.emplace_back("Retry-After", "1");
                std::string bytes;
                SerializeResponse(busy, {11, false, false}, bytes);
                socket.non_blocking(true, ignored);
                socket.write_some(asio::buffer(bytes), ignored);
                socket.shutdown(tcp::socket::shutdown_both, ignored);
                socket.close(ignored);
                continue;
            }
            ++live_connections;
        }
        socket.set_option(tcp::no_delay(true), ignored);
        asio::co_spawn(reactor.executor,
                       Session(reactor, std::make_shared<Connection>(std::move(socket))),
                       asio::detached);
    }
}

Server::Server(std::vector<asio::any_io_executor> executors,
               ServerSettings settings,
               Handler handler)
    : impl_(std::make_shared<Impl>(std::move(executors), std::move(settings), std::move(handler))) {
}

Server::~Server() { Stop(); }

void Server::Bind() {
    auto [host, port] = SplitHostPort(impl_->settings.listen);
    tcp::endpoint ep(asio::ip::make_address(host), port);
    auto& a = impl_->acceptor;
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(ep);
    a.listen(asio::socket_base::max_listen_connections);
}

void Server::Start() {
    if (!impl_->acceptor.is_open()) Bind();
    for (auto& r : impl_->reactors) asio::co_spawn(r->executor, impl_->Sweep(*r), asio::detached);
    asio::co_spawn(impl_->reactors[0]->executor, impl_->AcceptLoop(), asio::detached);
}

unsigned short Server::port() const {
    beast::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void Server::Stop() {
    if (impl_->stopping.exchange(true)) return;
    auto impl = impl_;
    asio::post(impl->reactors[0]->executor, [impl] {
        beast::error_code ignored;
        impl->acceptor.close(ignored);
    });
    for (auto& r : impl->reactors) {
        asio::post(r->executor, [impl, reactor = r.get()] {
            // Idle connections end now; busy ones finish their request and then close.
            for (auto& [ptr, conn] : reactor->connections) {
                beast::error_code ignored;
                if (!conn->busy) conn->socket.cancel(ignored);
            }
        });
    }
}

void Server::Wait() {
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait_for(lock, impl_->settings.drain_timeout,
                       [&] { return impl_->live_connections == 0; });
}

}  // namespace joopang::http
