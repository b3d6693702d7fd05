#pragma once
/// The HTTP API: routes requests to handlers and wraps every call in the cross-cutting steps —
/// who the caller is (admin token, access token or gateway header), Idempotency-Key replay, request
/// metrics, the Server-Timing header and the access log. Every path through Handle produces a
/// response; nothing escapes as an exception.

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>

#include "app/access_token.hpp"
#include "app/ports/idempotency_store.hpp"
#include "common/blocking_pool.hpp"
#include "common/error.hpp"
#include "http/caller.hpp"
#include "http/router.hpp"

namespace joopang::obs {
class Counter;
class Registry;
}  // namespace joopang::obs

namespace joopang::http {

/// How signed-in users are recognised: by an access token (default), or, behind an
/// authenticating gateway, by the X-User-Id header the gateway sets.
enum class UserAuth { kToken, kGateway };

/// Checks an access token (signature, expiry, revocation); in-process, no I/O.
using TokenVerifier = std::function<Result<AccessClaims>(std::string_view token)>;

struct ApiSettings {
    std::string admin_token;
    UserAuth user_auth = UserAuth::kToken;
    bool access_log = false;
    /// How long an Idempotency-Key is remembered.
    std::int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
};

class Api {
  public:
    Api(joopang::BlockingPool& pool,
        IdempotencyStore& idempotency,
        obs::Registry& metrics,
        ApiSettings settings,
        TokenVerifier verify_token);

    /// Register routes before serving; not thread-safe with Handle.
    Router& router() { return router_; }
    /// Answers one request. Thread-safe; runs on the connection's strand.
    boost::asio::awaitable<HttpResponse> Handle(HttpRequest& request);

  private:
    boost::asio::awaitable<HttpResponse> RunIdempotent(const Route& route,
                                                       RequestContext& ctx,
                                                       const std::string& key);
    /// Who sent `request`, as far as a route of `access` needs to know; UNAUTHORIZED when it
    /// needs a user or the admin and the request does not prove one.
    Result<Caller> Identify(const HttpRequest& request, Access access) const;
    bool IsAdminToken(std::string_view token) const;
    /// Counts the answered request and its latency under (route, status).
    void Record(const Route* route, int status, std::int64_t elapsed_ns);

    joopang::BlockingPool& pool_;
    IdempotencyStore& idempotency_;
    obs::Registry& metrics_;
    ApiSettings settings_;
    TokenVerifier verify_token_;
    Router router_;
};

}  // namespace joopang::http
