#pragma once
/// The HTTP API: routes requests to handlers and wraps every call in the cross-cutting steps —
/// admin authentication, Idempotency-Key replay, request metrics, the Server-Timing header and the
/// access log. Every path through Handle produces a response; nothing escapes as an exception.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>

#include "app/ports/idempotency_store.hpp"
#include "common/blocking_pool.hpp"
#include "common/error.hpp"
#include "http/router.hpp"

namespace joopang::obs {
class Counter;
class Registry;
}  // namespace joopang::obs

namespace joopang::http {

struct ApiSettings {
    std::string admin_token;
    bool access_log = false;
    /// How long an Idempotency-Key is remembered.
    std::int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
};

class Api {
  public:
    Api(joopang::BlockingPool& pool,
        IdempotencyStore& idempotency,
        obs::Registry& metrics,
        ApiSettings settings);

    /// Register routes before serving; not thread-safe with Handle.
    Router& router() { return router_; }
    /// Caches per-route metric series; call once after all routes are registered.
    void Seal();

    /// Answers one request. Thread-safe; runs on the connection's strand.
    boost::asio::awaitable<HttpResponse> Handle(HttpRequest& request);

  private:
    boost::asio::awaitable<HttpResponse> RunIdempotent(const Route& route,
                                                       RequestContext& ctx,
                                                       const std::string& key);
    bool IsAdmin(const HttpRequest& request) const;
    /// The request counter of (route, status), cached per thread.
    obs::Counter& RequestCounter(const Route* route, int status);

    joopang::BlockingPool& pool_;
    IdempotencyStore& idempotency_;
    obs::Registry& metrics_;
    ApiSettings settings_;
    Router router_;
};

}  // namespace joopang::http
