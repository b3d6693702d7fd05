#pragma once
/// Plain request/response values that cross from the Beast server into handlers, so that handlers
/// never include Beast.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.hpp"

namespace joopang::http {

struct HttpRequest {
    std::string method;  // "GET", "POST", …
    std::string path;    // percent-decoded path without the query
    std::string query;   // raw query string without '?'
    std::string body;
    std::string remote;  // peer address

    using HeaderField = std::pair<std::string, std::string>;
    /// The headers, names lower-cased.
    std::span<const HeaderField> Headers() const { return {header_storage.data(), header_count}; }
    std::optional<std::string_view> Header(std::string_view lower_name) const {
        for (const auto& [k, v] : Headers())
            if (k == lower_name) return std::string_view(v);
        return std::nullopt;
    }
    /// Appends a header, its name lower-cased.
    void AddHeader(std::string_view name, std::string_view value) {
        if (header_count == header_storage.size()) header_storage.emplace_back();
        auto& [lower, stored] = header_storage[header_count++];
        lower.assign(name);
        for (auto& ch : lower) ch = AsciiLower(ch);
        stored.assign(value);
    }
    void ClearHeaders() {
        header_count = 0;
        // An unusually long header list is not kept for the rest of the connection's life.
        if (header_storage.size() > kKeptHeaders) std::vector<HeaderField>().swap(header_storage);
    }

  private:
    static constexpr std::size_t kKeptHeaders = 32;
    // A connection parses every request into the same HttpRequest: the header strings are kept
    // (entries past header_count are stale) and reassigned, not allocated again per request.
    std::vector<HeaderField> header_storage;
    std::size_t header_count = 0;
};

/// A matched path's captures, in order: views into the path given to Router::Find (router.hpp),
/// which must outlive them (the request's own path does). Held inline: no allocation per request.
class PathParams {
  public:
    static constexpr std::size_t kMax = 16;  // no route has more segments
    void push_back(std::string_view v) { items_.at(size_++) = v; }
    std::size_t size() const { return size_; }
    std::string_view at(std::size_t i) const {
        if (i >= size_) throw std::out_of_range("no such path capture");
        return items_[i];
    }

  private:
    std::array<std::string_view, kMax> items_{};
    std::size_t size_ = 0;
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
