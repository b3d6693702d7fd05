#pragma once
/// Turns an HttpResponse into the bytes of an HTTP/1.x response, written straight into one string
/// (one buffer, one send): cheaper than building a Beast message with a field list per response.

#include <cstdint>
#include <string>

#include "http/http_types.hpp"

namespace joopang::http {

struct ResponseFraming {
    int version = 11;        // 10 or 11, as the request's
    bool keep_alive = true;  // false adds "Connection: close" (HTTP/1.1)
    bool head = false;       // a HEAD request: headers (with the body's length) but no body
};

/// Appends the serialized response to `out`. Header fields whose name or value hold CR or LF are
/// dropped (they would split the response).
void SerializeResponse(const HttpResponse& response, ResponseFraming framing, std::string& out);

/// Appends `ns` as milliseconds with three decimals ("1.234").
void AppendMs(std::string& out, std::int64_t ns);

/// "100 Continue" interim response for `Expect: 100-continue`.
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace joopang::http
