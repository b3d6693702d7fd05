#pragma once
/// Plain request/response values that cross from the Beast server into handlers, so that handlers
/// never include Beast.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace joopang::http {

struct HttpRequest {
    std::string method;  // "GET", "POST", …
    std::string path;    // percent-decoded path without the query
    std::string query;   // raw query string without '?'
    /// Header names lower-cased.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string remote;  // peer address

    std::optional<std::string_view> Header(std::string_view lower_name) const {
        for (const auto& [k, v] : headers)
            if (k == lower_name) return std::string_view(v);
        return std::nullopt;
    }
};

/// Where a request's time went, sent as the Server-Timing header (in milliseconds).
struct ServerTiming {
    std::int64_t db_ns = 0;
    std::int64_t redis_ns = 0;
    std::int64_t total_ns = 0;
};

struct HttpResponse {
    int status = 200;
    /// Always a literal (static storage): a std::string of 16 characters would be a heap
    /// allocation for every response.
    std::string_view content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// Written by the serializer straight into the response bytes (no header string per request).
    std::optional<ServerTiming> timing;
    /// Close the connection after this response.
    bool close = false;
    /// Set from Error::outcome_unknown: the request may have taken effect despite the error.
    bool outcome_unknown = false;
};

}  // namespace joopang::http
