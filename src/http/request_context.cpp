#include "http/request_context.hpp"

#include "http/json_input.hpp"
#include "http/percent_decode.hpp"

namespace joopang::http {

Result<std::int64_t> RequestContext::PathId(std::size_t i, std::string_view name) const {
    return ParseQueryInt(params_.at(i), std::string(name), 1, INT64_MAX);
}

std::optional<std::string> RequestContext::Query(std::string_view name) const {
    std::string_view q = request_.query;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        auto eq = pair.find('=');
        std::string key = PercentDecode(pair.substr(0, eq), true);
        if (key == name)
            return eq == std::string_view::npos ? std::string()
                                                : PercentDecode(pair.substr(eq + 1), true);
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

}  // namespace joopang::http
