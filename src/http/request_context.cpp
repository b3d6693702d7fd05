#include "http/request_context.hpp"

#include "http/json_input.hpp"

namespace joopang::http {
namespace {

std::string DecodeQueryComponent(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

Result<std::int64_t> RequestContext::PathId(std::size_t i, std::string_view name) const {
    return ParseQueryInt(params_.at(i), std::string(name), 1, INT64_MAX);
}

std::optional<std::string> RequestContext::Query(std::string_view name) const {
    std::string_view q = request_.query;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        auto eq = pair.find('=');
        std::string key = DecodeQueryComponent(pair.substr(0, eq));
        if (key == name)
            return eq == std::string_view::npos ? std::string()
                                                : DecodeQueryComponent(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

}  // namespace joopang::http
