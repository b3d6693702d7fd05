#pragma once
/// The request fast path: parses a request that arrived whole and uses only the plainest HTTP/1.1
/// (an origin-form target, a Content-Length body or none, no Transfer-Encoding, Expect, Upgrade
/// or folded lines, printable ASCII only) straight from the read buffer into an HttpRequest. For
/// anything else it declines, and the server hands the same bytes to Beast's parser, which
/// decides: the fast path never refuses a request, so every error answer still comes from Beast.
/// What it accepts, Beast accepts with the same result (tests/unit/plain_request_test.cpp
/// checks this against Beast on generated and mutated requests).
///
/// Why: Beast's parser was ~18 % of the I/O thread's instructions per coupon request (callgrind,
/// docs/benchmarks.md); most of it is general machinery a plain request does not need.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/http_types.hpp"

namespace joopang::http {

struct PlainRequest {
    std::size_t consumed = 0;  // bytes of the input that made up the request
    int version = 11;          // 10 or 11
    bool keep_alive = true;
};

/// Parses one request from the front of `input` into `request` and `target` (the raw target), or
/// returns nullopt, having possibly written to them, when the request is not whole in `input`,
/// not plain, over `header_limit` bytes of header or over `body_limit` bytes of body.
std::optional<PlainRequest> ParsePlainRequest(std::string_view input,
                                              std::size_t header_limit,
                                              std::uint64_t body_limit,
                                              HttpRequest& request,
                                              std::string& target);

/// How both parsers store what they read, so that the two give identical requests (headers go
/// through HttpRequest::AddHeader).
/// Empties the request and target, keeping their capacity (a connection reuses them).
void ResetRequest(HttpRequest& request, std::string& target);
/// Stores the method and the target, with the path percent-decoded and the query split off.
void StoreRequestLine(HttpRequest& request,
                      std::string& target,
                      std::string_view method,
                      std::string_view raw_target);

}  // namespace joopang::http
