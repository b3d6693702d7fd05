#pragma once
/// Plain request/response values that cross from the Beast server into handlers, so that handlers
/// never include Beast.

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

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// Close the connection after this response.
    bool close = false;
    /// Set from Error::outcome_unknown: the request may have taken effect despite the error.
    bool outcome_unknown = false;
};

}  // namespace joopang::http
