#include "joopang_bench_http.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <stdexcept>

namespace joopang::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

Target Target::Parse(const std::string& url) {
    std::string_view rest = url;
    constexpr std::string_view kHttp = "http://";
    if (rest.starts_with("https://")) throw std::runtime_error("https is not supported: " + url);
    if (rest.starts_with(kHttp)) rest.remove_prefix(kHttp.size());
    Target t;
    auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) t.prefix = std::string(rest.substr(slash));
    while (!t.prefix.empty() && t.prefix.back() == '/') t.prefix.pop_back();
    if (authority.empty()) throw std::runtime_error("no host in URL: " + url);
    t.host_header = std::string(authority);
    if (authority.front() == '[') {  // [v6]:port
        auto close = authority.find(']');
        if (close == std::string_view::npos) throw std::runtime_error("bad IPv6 host: " + url);
        t.host = std::string(authority.substr(1, close - 1));
        auto after = authority.substr(close + 1);
        t.port = after.starts_with(":") ? std::string(after.substr(1)) : "80";
    } else {
        auto colon = authority.rfind(':');
        t.host = std::string(authority.substr(0, colon));
        t.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
    }
    if (t.port.empty()) t.port = "80";
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto results = resolver.resolve(t.host, t.port, ec);
    if (ec)
        throw std::runtime_error("cannot resolve " + t.host + ":" + t.port + ": " + ec.message());
    for (const auto& r : results) t.endpoints.push_back(r.endpoint());
    if (t.endpoints.empty()) throw std::runtime_error("no address for " + t.host);
    return t;
}

std::string HttpResult::ErrorText() const {
    if (!error) return {};
    return std::string(stage) + ": " + error.message();
}

HttpConnection::HttpConnection(asio::any_io_executor executor,
                               const Target& target,
                               std::chrono::milliseconds timeout)
    : target_(target), timeout_(timeout), stream_(std::move(executor)) {}

void HttpConnection::Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    buffer_.clear();
    connected_ = false;
}

awaitable<beast::error_code> HttpConnection::Connect() {
    Close();
    stream_.expires_after(timeout_);
    auto [ec, ep] = co_await stream_.async_connect(target_.endpoints, kTuple);
    if (ec) co_return ec;
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    connected_ = true;
    ++connects_;
    co_return beast::error_code{};
}

awaitable<HttpResult> HttpConnection::Request(bhttp::verb method,
                                              std::string_view path,
                                              std::string_view body,
                                              std::string_view bearer,
                                              std::string_view header_lines) {
    HttpResult result;
    if (!connected_) {
        if (auto ec = co_await Connect()) {
            result.error = ec;
            result.stage = "connect";
            co_return result;
        }
    }
    // The request is serialized by hand into one buffer: cheaper than a beast message, whose
    // fields allocate per header.
    std::string& out = request_buf_;
    out.clear();
    auto verb = bhttp::to_string(method);
    out.append(verb.data(), verb.size()).append(" ");
    out.append(target_.prefix).append(path).append(" HTTP/1.1\r\nHost: ");
    out.append(target_.host_header).append("\r\nUser-Agent: joopang-bench\r\n");
    if (!bearer.empty()) out.append("Authorization: Bearer ").append(bearer).append("\r\n");
    out.append(header_lines);
    if (!body.empty()) out.append("Content-Type: application/json\r\n");
    if (!body.empty() || method == bhttp::verb::post || method == bhttp::verb::put ||
        method == bhttp::verb::patch)
        out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    out.append("\r\n").append(body);

    auto start = std::chrono::steady_clock::now();
    stream_.expires_after(timeout_);
    auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(out), kTuple);
    if (wec) {
        Close();
        result.error = wec;
        result.stage = "write";
        co_return result;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    auto [rec, rn] = co_await bhttp::async_read(stream_, buffer_, parser, kTuple);
    auto end = std::chrono::steady_clock::now();
    if (rec) {
        Close();
        result.error = rec;
        result.stage = "read";
        co_return result;
    }
    auto res = parser.release();
    result.status = static_cast<int>(res.result_int());
    result.latency_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
    if (auto it = res.find(bhttp::field::retry_after); it != res.end())
        result.retry_after = std::string(it->value());
    result.body = std::move(res.body());
    if (!res.keep_alive()) Close();
    co_return result;
}

}  // namespace joopang::bench
