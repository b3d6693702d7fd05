#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "http/error_response.hpp"
#include "http/percent_decode.hpp"

namespace joopang::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

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

}  // namespace

/// One connection: its stream and whether a request is in progress (touched on its strand only).
struct Connection {
    explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    bool busy = false;
};

struct Server::Impl : std::enable_shared_from_this<Impl> {
    Impl(asio::any_io_executor ex, ServerSettings s, Handler h)
        : executor(ex),
          settings(std::move(s)),
          handler(std::move(h)),
          acceptor_strand(asio::make_strand(ex)),
          acceptor(acceptor_strand) {}

    asio::any_io_executor executor;
    ServerSettings settings;
    Handler handler;
    asio::strand<asio::any_io_executor> acceptor_strand;
    tcp::acceptor acceptor;
    std::atomic<bool> stopping{false};

    std::mutex mu;
    std::condition_variable cv;
    std::uint64_t next_id = 0;
    std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections;

    awaitable<void> AcceptLoop();
    awaitable<void> Session(std::shared_ptr<Connection> conn, std::uint64_t id);
    awaitable<void> WriteAndDrain(Connection& conn, bhttp::response<bhttp::string_body>& res);
};

namespace {

bhttp::response<bhttp::string_body> ToBeast(HttpResponse& res, unsigned version, bool keep_alive) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
    out.set(bhttp::field::server, "joopang");
    out.set(bhttp::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers) out.set(k, v);
    out.body() = std::move(res.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    return out;
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
    return r;
}

}  // namespace

awaitable<void> Server::Impl::WriteAndDrain(Connection& conn,
                                            bhttp::response<bhttp::string_body>& res) {
    // Answer, then read and discard what the client is still sending (bounded), so it sees the
    // response instead of a reset.
    conn.stream.expires_after(settings.read_timeout);
    co_await bhttp::async_write(conn.stream, res, kTuple);
    beast::error_code ignored;
    conn.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    std::array<char, 16384> scratch;
    std::size_t drained = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (drained < (64u << 20) && std::chrono::steady_clock::now() < deadline) {
        conn.stream.expires_at(deadline);
        auto [ec, n] = co_await conn.stream.async_read_some(asio::buffer(scratch), kTuple);
        if (ec) break;
        drained += n;
    }
}

awaitable<void> Server::Impl::Session(std::shared_ptr<Connection> conn, std::uint64_t id) {
    auto self = shared_from_this();
    auto& stream = conn->stream;
    beast::flat_buffer buffer;
    std::string remote;
    {
        beast::error_code ec;
        auto ep = stream.socket().remote_endpoint(ec);
        if (!ec) remote = ep.address().to_string();
    }
    for (;;) {
        if (stopping) break;
        conn->busy = false;
        if (buffer.size() == 0) {
            // Idle keep-alive wait for the first byte of the next request.
            stream.expires_after(settings.idle_timeout);
            auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), kTuple);
            if (ec) break;
            buffer.commit(n);
        }
        conn->busy = true;
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
        parser.body_limit(settings.max_body_bytes);
        stream.expires_after(settings.read_timeout);
        auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
        std::string target_path =
            PercentDecode(parser.get().target().substr(0, parser.get().target().find('?')));
        if (hec) {
            if (hec == bhttp::error::body_limit) {
                // A declared Content-Length above the limit: refuse before reading the body.
                auto r = ProtocolError(
                    ErrorCode::kPayloadTooLarge,
                    "request body exceeds " + std::to_string(settings.max_body_bytes) + " bytes",
                    target_path);
                auto out = ToBeast(r, 11, false);
                co_await WriteAndDrain(*conn, out);
            } else if (hec == bhttp::error::header_limit) {
                auto r = ProtocolError(ErrorCode::kValidationFailed, "request headers too large",
                                       target_path, 431);
                auto out = ToBeast(r, 11, false);
                co_await WriteAndDrain(*conn, out);
            } else if (hec.category() ==
                           bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
                       hec != bhttp::error::end_of_stream && hec != bhttp::error::partial_message) {
                auto r = ProtocolError(ErrorCode::kValidationFailed, "malformed HTTP request",
                                       target_path);
                auto out = ToBeast(r, 11, false);
                co_await WriteAndDrain(*conn, out);
            }
            break;  // timeouts, resets and EOF just close
        }
        auto& header = parser.get();
        if (auto len = parser.content_length(); len && *len > settings.max_body_bytes) {
            auto r = ProtocolError(
                ErrorCode::kPayloadTooLarge,
                "request body exceeds " + std::to_string(settings.max_body_bytes) + " bytes",
                target_path);
            auto out = ToBeast(r, header.version(), false);
            co_await WriteAndDrain(*conn, out);
            break;
        }
        if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
            bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
            auto [cec, cn] = co_await bhttp::async_write(stream, cont, kTuple);
            if (cec) break;
        }
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        if (bec) {
            if (bec == bhttp::error::body_limit) {
                auto r = ProtocolError(ErrorCode::kPayloadTooLarge, "request body too large",
                                       target_path);
                auto out = ToBeast(r, header.version(), false);
                co_await WriteAndDrain(*conn, out);
            } else if (bec.category() ==
                           bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
                       bec != bhttp::error::end_of_stream && bec != bhttp::error::partial_message) {
                auto r = ProtocolError(ErrorCode::kValidationFailed, "malformed HTTP request body",
                                       target_path);
                auto out = ToBeast(r, header.version(), false);
                co_await WriteAndDrain(*conn, out);
            }
            break;
        }
        auto req = parser.release();
        HttpRequest request;
        request.method = std::string(req.method_string());
        std::string_view target = req.target();
        auto q = target.find('?');
        request.path = PercentDecode(target.substr(0, q));
        if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
        request.headers.reserve(8);
        for (const auto& f : req) {
            std::string name(f.name_string());
            for (auto& ch : name)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            request.headers.emplace_back(std::move(name), std::string(f.value()));
        }
        request.body = std::move(req.body());
        request.remote = remote;

        HttpResponse response;
        try {
            response = co_await handler(request);
        } catch (const std::exception& e) {
            spdlog::error("handler threw for {} {}: {}", request.method, request.path, e.what());
            response = ErrorResponse(Error::Internal("internal error"), request.path);
        }
        bool keep_alive = req.keep_alive() && !response.close && !stopping;
        auto out = ToBeast(response, req.version(), keep_alive);
        stream.expires_after(settings.read_timeout);
        auto [wec, wn] = co_await bhttp::async_write(stream, out, kTuple);
        if (wec) break;
        if (!keep_alive) {
            beast::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            break;
        }
    }
    conn->busy = false;
    beast::error_code ignored;
    stream.socket().close(ignored);
    std::lock_guard lock(mu);
    connections.erase(id);
    cv.notify_all();
}

awaitable<void> Server::Impl::AcceptLoop() {
    auto self = shared_from_this();
    while (!stopping) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(executor), kTuple);
        if (ec) {
            if (stopping || ec == asio::error::operation_aborted) break;
            spdlog::warn("accept failed: {}", ec.message());
            continue;
        }
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto ex = socket.get_executor();
        auto conn = std::make_shared<Connection>(std::move(socket));
        std::uint64_t id;
        {
            std::lock_guard lock(mu);
            id = next_id++;
            connections.emplace(id, conn);
        }
        asio::co_spawn(ex, Session(conn, id), asio::detached);
    }
}

Server::Server(asio::any_io_executor executor, ServerSettings settings, Handler handler)
    : impl_(std::make_shared<Impl>(executor, std::move(settings), std::move(handler))) {}

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
    asio::co_spawn(impl_->acceptor_strand, impl_->AcceptLoop(), asio::detached);
}

unsigned short Server::port() const {
    beast::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void Server::Stop() {
    if (impl_->stopping.exchange(true)) return;
    auto impl = impl_;
    asio::post(impl->acceptor_strand, [impl] {
        beast::error_code ignored;
        impl->acceptor.close(ignored);
    });
    std::lock_guard lock(impl->mu);
    for (auto& [id, conn] : impl->connections) {
        asio::post(conn->stream.get_executor(), [conn] {
            // Idle connections end now; busy ones finish their request and then close.
            beast::error_code ignored;  // the connection may have closed meanwhile
            if (!conn->busy) conn->stream.socket().cancel(ignored);
        });
    }
}

void Server::Wait() {
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait_for(lock, impl_->settings.drain_timeout,
                       [&] { return impl_->connections.empty(); });
}

}  // namespace joopang::http
