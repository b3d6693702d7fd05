// Both HTTP request parsers driven the way the server drives them, for the fuzz targets.
#pragma once

#include <boost/asio/buffer.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "http/plain_request.hpp"
#include "http/request_parser.hpp"

namespace joopang::fuzz {

constexpr std::size_t kHeaderLimit = 16 << 10;
constexpr std::uint64_t kBodyLimit = 64 << 10;

struct Parsed {
    http::HttpRequest request;
    std::string target;
    std::size_t consumed = 0;
    int version = 0;
    bool keep_alive = false;
};

/// The fast path's reading of the front of `raw`, or nullopt when it declines.
inline std::optional<Parsed> FastParse(std::string_view raw) {
    Parsed out;
    auto r = http::ParsePlainRequest(raw, kHeaderLimit, kBodyLimit, out.request, out.target);
    if (!r) return std::nullopt;
    out.consumed = r->consumed;
    out.version = r->version;
    out.keep_alive = r->keep_alive;
    return out;
}

/// Beast's reading of the front of `raw`, fed in pieces of `step` bytes (0: all at once) as the
/// server feeds it from its buffer; nullopt when it refuses or needs more.
inline std::optional<Parsed> BeastParse(std::string_view raw, std::size_t step = 0) {
    Parsed out;
    http::RequestParser p(out.request, out.target);
    p.header_limit(static_cast<std::uint32_t>(kHeaderLimit));
    p.body_limit(kBodyLimit);
    p.eager(true);
    boost::beast::error_code ec;
    std::size_t used = 0;
    std::size_t available = step == 0 ? raw.size() : std::min(step, raw.size());
    while (!p.is_done()) {
        std::size_t n = p.put(boost::asio::buffer(raw.data() + used, available - used), ec);
        used += n;
        if (ec == boost::beast::http::error::need_more) {
            ec = {};
            if (available == raw.size()) return std::nullopt;  // cut short
            available = std::min(raw.size(), available + (step == 0 ? raw.size() : step));
            continue;
        }
        if (ec) return std::nullopt;
        if (n == 0 && !p.is_done()) {
            if (available == raw.size()) return std::nullopt;
            available = std::min(raw.size(), available + (step == 0 ? raw.size() : step));
        }
    }
    out.consumed = used;
    out.version = p.version();
    out.keep_alive = p.keep_alive();
    return out;
}

}  // namespace joopang::fuzz
