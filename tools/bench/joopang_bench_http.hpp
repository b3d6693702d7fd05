// Keep-alive HTTP/1.1 client connection for joopang-bench (Boost.Beast, C++20 coroutines).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace joopang::bench {

/// Where the service listens: parsed from `http://host[:port][/prefix]` and resolved once.
struct Target {
    std::string host;         ///< host name or address as given
    std::string port;         ///< port as text ("80" when omitted)
    std::string host_header;  ///< value of the Host header (host[:port])
    std::string prefix;       ///< path prefix without trailing '/', usually empty
    std::vector<boost::asio::ip::tcp::endpoint> endpoints;  ///< resolved addresses

    /// Parses and resolves `url`; throws std::runtime_error on a malformed URL, an https URL or a
    /// name that does not resolve.
    static Target Parse(const std::string& url);
};

/// The outcome of one request. `status` is 0 when the request failed at the transport level
/// (connect, write, read, timeout); `error` and `stage` then say what failed.
struct HttpResult {
    int status = 0;                   ///< HTTP status, or 0 on a transport error
    std::string body;                 ///< response body
    boost::system::error_code error;  ///< transport error, if any
    const char* stage = "";           ///< "connect", "write" or "read" when `error` is set
    std::int64_t latency_ns = 0;      ///< from just before the write to the end of the response
    std::string retry_after;          ///< Retry-After header, if present

    bool ok() const { return status >= 200 && status < 300; }
    /// "read: end of stream" style text for error tables.
    std::string ErrorText() const;
};

/// One keep-alive connection used by a single coroutine at a time (closed loop: one request in
/// flight). It connects lazily, reconnects after the server closes or after any transport error,
/// and never retries a request by itself (a retried POST could be applied twice). With several
/// io_context threads give it a strand executor.
class HttpConnection {
  public:
    /// `timeout` bounds connect, write and read of one request.
    HttpConnection(boost::asio::any_io_executor executor,
                   const Target& target,
                   std::chrono::milliseconds timeout);

    /// Sends one request and reads the whole response. `body` non-empty adds
    /// `Content-Type: application/json`; `bearer` non-empty adds `Authorization: Bearer ...`.
    /// `path` is appended to the target's prefix; `header_lines` ("Name: value\r\n"…) are sent
    /// as they are.
    boost::asio::awaitable<HttpResult> Request(boost::beast::http::verb method,
                                               std::string_view path,
                                               std::string_view body = {},
                                               std::string_view bearer = {},
                                               std::string_view header_lines = {});

    /// Number of TCP connections opened so far (1 + reconnects).
    std::uint64_t connects() const { return connects_; }
    /// Closes the socket (the next Request reconnects).
    void Close();

  private:
    boost::asio::awaitable<boost::system::error_code> Connect();

    const Target& target_;
    std::chrono::milliseconds timeout_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::string request_buf_;
    bool connected_ = false;
    std::uint64_t connects_ = 0;
};

}  // namespace joopang::bench
