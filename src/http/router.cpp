#include "http/router.hpp"

#include <algorithm>

namespace joopang::http {
namespace {

std::vector<std::string> Split(std::string_view path) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        auto j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        out.emplace_back(path.substr(i, j - i));
        i = j;
    }
    return out;
}

bool IsCapture(const std::string& seg) {
    return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

Route& Router::Add(std::string method,
                   std::string pattern,
                   RouteHandler handler,
                   RouteOptions options) {
    auto route = std::make_unique<Route>();
    route->method = std::move(method);
    route->segments = Split(pattern);
    route->pattern = std::move(pattern);
    route->handler = std::move(handler);
    route->options = std::move(options);
    if (by_length_.size() <= route->segments.size()) by_length_.resize(route->segments.size() + 1);
    // A literal segment wins over a capture at the same place ("/products/top" before
    // "/products/{id}"), whatever the order the routes were added in.
    auto& same_length = by_length_[route->segments.size()];
    const auto captures = [](const Route* r) {
        std::vector<bool> key;
        for (const auto& seg : r->segments) key.push_back(IsCapture(seg));
        return key;
    };
    const auto key = captures(route.get());
    auto at = std::find_if(same_length.begin(), same_length.end(),
                           [&](const Route* r) { return key < captures(r); });
    same_length.insert(at, route.get());
    routes_.push_back(std::move(route));
    return *routes_.back();
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
    // Split into views (no allocation); at most kMaxSegments segments can match any route.
    constexpr std::size_t kMaxSegments = PathParams::kMax;
    std::string_view segments[kMaxSegments];
    std::size_t count = 0;
    for (std::size_t i = 0; i < path.size();) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        auto j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        if (count == kMaxSegments) return Match{};
        segments[count++] = path.substr(i, j - i);
        i = j;
    }
    Match match;
    if (count >= by_length_.size()) return match;
    for (const Route* r : by_length_[count]) {
        // Last segment first: routes of one length mostly share their start ("api", "v1") and
        // differ at the end ("issue", "payment"), so a mismatch shows up at once.
        bool ok = true;
        for (std::size_t i = count; i-- > 0 && ok;)
            ok = IsCapture(r->segments[i]) || r->segments[i] == segments[i];
        if (!ok) continue;
        if (r->method == method || (method == "HEAD" && r->method == "GET")) {
            match.outcome = Outcome::kFound;
            match.route = r;
            for (std::size_t i = 0; i < count; ++i)
                if (IsCapture(r->segments[i])) match.params.push_back(segments[i]);
            return match;
        }
        match.outcome = Outcome::kMethodNotAllowed;
        if (match.allowed.find(r->method) == std::string::npos)
            match.allowed += (match.allowed.empty() ? "" : ", ") + r->method;
    }
    return match;
}

}  // namespace joopang::http
