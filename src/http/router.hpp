#pragma once
/// Maps (method, path) to a route. Patterns are literal segments and `{name}` captures, e.g.
/// "/api/v1/orders/{id}/payment". A path that matches a pattern under another method gives
/// kMethodNotAllowed with the allowed methods (for the Allow header).

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "http/http_types.hpp"

namespace joopang::http {

class RequestContext;

using RouteHandler = std::function<boost::asio::awaitable<HttpResponse>(RequestContext&)>;

/// Who may call a route: anyone; a signed-in user (or the admin acting for one); the admin only.
enum class Access { kPublic, kUser, kAdmin };

/// A check a route's caller must pass before anything else runs (Idempotency-Key included, so
/// that a refusal is never replayed): an error is the answer.
using RouteGuard = std::function<boost::asio::awaitable<Status>(RequestContext&)>;

struct RouteOptions {
    Access access = Access::kPublic;
    bool idempotent = false;  // honours Idempotency-Key
    std::string summary;      // for /openapi.json
    RouteGuard guard;         // none by default (the waiting room sets some)
};

struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    RouteHandler handler;
    RouteOptions options;
};

class Router {
  public:
    enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
    struct Match {
        Outcome outcome = Outcome::kNotFound;
        const Route* route = nullptr;
        PathParams params;
        std::string allowed;  // "GET, POST" for kMethodNotAllowed
    };

    Route& Add(std::string method, std::string pattern, RouteHandler handler, RouteOptions options);
    Match Find(std::string_view method, std::string_view path) const;
    const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

  private:
    std::vector<std::unique_ptr<Route>> routes_;
    // The same routes grouped by their number of segments, in registration order: a path can
    // only match routes of its own length, and Find runs on every request.
    std::vector<std::vector<const Route*>> by_length_;
};

}  // namespace joopang::http
