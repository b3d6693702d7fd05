#include "http/router.hpp"

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

Route& Router::Add(std::string method, std::string pattern, RouteHandler handler,
                   RouteOptions options) {
    auto route = std::make_unique<Route>();
    route->method = std::move(method);
    route->segments = Split(pattern);
    route->pattern = std::move(pattern);
    route->handler = std::move(handler);
    route->options = std::move(options);
    routes_.push_back(std::move(route));
    return *routes_.back();
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
    auto segments = Split(path);
    Match match;
    for (const auto& r : routes_) {
        if (r->segments.size() != segments.size()) continue;
        std::vector<std::string> params;
        bool ok = true;
        for (std::size_t i = 0; i < segments.size() && ok; ++i) {
            if (IsCapture(r->segments[i]))
                params.push_back(segments[i]);
            else
                ok = r->segments[i] == segments[i];
        }
        if (!ok) continue;
        if (r->method == method || (method == "HEAD" && r->method == "GET")) {
            match.outcome = Outcome::kFound;
            match.route = r.get();
            match.params = std::move(params);
            return match;
        }
        match.outcome = Outcome::kMethodNotAllowed;
        if (match.allowed.find(r->method) == std::string::npos)
            match.allowed += (match.allowed.empty() ? "" : ", ") + r->method;
    }
    return match;
}

}  // namespace joopang::http
