#include "http/api.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <unordered_map>

#include "common/ascii.hpp"
#include "common/clock.hpp"
#include "http/error_response.hpp"
#include "http/json_input.hpp"
#include "http/request_context.hpp"
#include "http/response_writer.hpp"
#include "observability/metrics.hpp"

namespace joopang::http {
using boost::asio::awaitable;

namespace {

std::string Sha256Hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

std::string Ms(std::int64_t ns) {
    std::string s;
    AppendMs(s, ns);
    return s;
}

/// The credentials of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110
/// §11.1).
std::optional<std::string_view> BearerToken(const HttpRequest& request) {
    auto auth = request.Header("authorization");
    if (!auth) return std::nullopt;
    std::string_view v = *auth;
    constexpr std::string_view kScheme = "bearer";
    if (v.size() <= kScheme.size() || v[kScheme.size()] != ' ') return std::nullopt;
    for (std::size_t i = 0; i < kScheme.size(); ++i)
        if (AsciiLower(v[i]) != kScheme[i]) return std::nullopt;
    v.remove_prefix(kScheme.size());
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    return v;
}

std::size_t HeaderCount(const HttpRequest& request, std::string_view lower_name) {
    std::size_t n = 0;
    for (const auto& [name, value] : request.Headers()) n += name == lower_name;
    return n;
}

Error Unauthorized(std::string message) {
    return Error{ErrorCode::kUnauthorized, std::move(message)};
}

bool ValidIdempotencyKey(std::string_view key) {
    if (key.empty() || key.size() > 255) return false;
    for (unsigned char c : key)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

}  // namespace

Api::Api(BlockingPool& pool,
         IdempotencyStore& idempotency,
         obs::Registry& metrics,
         ApiSettings settings,
         TokenVerifier verify_token)
    : pool_(pool),
      idempotency_(idempotency),
      metrics_(metrics),
      settings_(std::move(settings)),
      verify_token_(std::move(verify_token)) {}

bool Api::IsAdminToken(std::string_view token) const {
    const std::string& admin = settings_.admin_token;
    return !admin.empty() && token.size() == admin.size() &&
           CRYPTO_memcmp(token.data(), admin.data(), token.size()) == 0;
}

Result<Caller> Api::Identify(const HttpRequest& request, Access access) const {
    // A public route (the product read, sign-up) needs no caller: no header is looked at.
    if (access == Access::kPublic) return Caller{};
    // A credential header sent twice is ambiguous (a proxy that appends instead of replacing
    // would let the client's own value through): refused, never resolved by picking one.
    if (HeaderCount(request, "authorization") > 1)
        return Unauthorized("the Authorization header must appear once");
    auto bearer = BearerToken(request);
    if (bearer && IsAdminToken(*bearer)) return Caller{Caller::Kind::kAdmin};
    if (access == Access::kAdmin) return Unauthorized("a valid admin bearer token is required");
    if (settings_.user_auth == UserAuth::kGateway) {
        auto header = request.Header("x-user-id");
        if (!header) return Unauthorized("the X-User-Id header (set by the gateway) is required");
        if (HeaderCount(request, "x-user-id") > 1)
            return Unauthorized("the X-User-Id header must appear once");
        auto id = ParseQueryInt(*header, "X-User-Id", 1, INT64_MAX);
        if (!id) return Unauthorized("X-User-Id must be a positive user id");
        return Caller{Caller::Kind::kUser, *id};
    }
    if (!bearer) return Unauthorized("sign in first: Authorization: Bearer <access token>");
    auto claims = verify_token_ ? verify_token_(*bearer)
                                : Result<AccessClaims>(Unauthorized("sign-in is not configured"));
    if (!claims) return claims.error();
    return Caller{Caller::Kind::kUser, claims->user_id, std::move(claims->token_id),
                  claims->expires_at};
}

awaitable<HttpResponse> Api::RunIdempotent(const Route& route,
                                           RequestContext& ctx,
                                           const std::string& key) {
    auto& req = ctx.request();
    // A key belongs to its caller and route: another user's, or another path's, is another key.
    // The route is named by its pattern and its captures, numbers without leading zeros, so that
    // another spelling of the same path (`/orders/007/payment`, `//orders/7/payment`) is the
    // same key and its retry replays instead of running again.
    std::string scope = ctx.caller().Scope();
    scope.append(" ").append(req.method).append(" ").append(route.pattern);
    for (std::size_t i = 0; i < ctx.params().size(); ++i) {
        std::string_view p = ctx.params().at(i);
        if (!p.empty() &&
            std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            while (p.size() > 1 && p.front() == '0') p.remove_prefix(1);
        }
        scope.append(" ").append(p);
    }
    std::string fingerprint = Sha256Hex(req.body);
    EpochMs ttl = settings_.idempotency_ttl_ms;
    auto claim =
        co_await ctx.Db([&] { return idempotency_.Begin(scope, key, fingerprint, NowMs(), ttl); });
    if (!claim) co_return ErrorResponse(claim.error(), ctx.path());
    switch (claim->outcome) {
        case IdempotencyStore::ClaimOutcome::kReplay: {
            HttpResponse r;
            r.status = claim->response.status;
            r.body = claim->response.body;
            r.headers.emplace_back("Idempotent-Replayed", "true");
            co_return r;
        }
        case IdempotencyStore::ClaimOutcome::kMismatch:
            co_return ErrorResponse(
                Error{ErrorCode::kIdempotencyKeyReused,
                      "this Idempotency-Key was used with a different request", "Idempotency-Key"},
                ctx.path());
        case IdempotencyStore::ClaimOutcome::kInFlight:
            co_return ErrorResponse(
                Error{ErrorCode::kIdempotencyKeyInUse,
                      "a request with this Idempotency-Key is in progress", "Idempotency-Key", 1},
                ctx.path());
        case IdempotencyStore::ClaimOutcome::kClaimed:
            break;
    }
    HttpResponse res;
    std::exception_ptr failure;
    try {
        res = co_await route.handler(ctx);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        co_await ctx.Db([&] { return idempotency_.Abandon(scope, key); });
        std::rethrow_exception(failure);
    }
    if (res.status >= 500 && !res.outcome_unknown) {
        // Nothing was applied: free the key so that a retry runs the request again.
        co_await ctx.Db([&] { return idempotency_.Abandon(scope, key); });
    } else {
        // Applied, refused, or perhaps applied: a retry replays this answer, never re-runs it.
        auto st = co_await ctx.Db([&] {
            return idempotency_.Complete(scope, key, StoredResponse{res.status, res.body});
        });
        if (!st) spdlog::warn("could not record Idempotency-Key outcome: {}", st.error().message);
    }
    co_return res;
}

void Api::Record(const Route* route, int status, std::int64_t elapsed_ns) {
    // Per-thread cache: the hot path touches only a hash map of this thread, no labels, no lock.
    // The series are bounded: the routes times the statuses the service answers.
    struct Series {
        obs::Counter* requests = nullptr;
        obs::Histogram* latency = nullptr;
    };
    thread_local std::unordered_map<std::uint64_t, Series> cache;
    std::uint64_t key =
        (reinterpret_cast<std::uintptr_t>(route) << 10) ^ static_cast<std::uint64_t>(status & 1023);
    if (route == nullptr) key = static_cast<std::uint64_t>(status & 1023);
    auto [it, inserted] = cache.try_emplace(key);
    if (inserted) {
        const obs::Labels labels{{"method", route ? route->method : std::string("-")},
                                 {"route", route ? route->pattern : std::string("unmatched")},
                                 {"status", std::to_string(status)}};
        it->second.requests = &metrics_.GetCounter("joopang_http_requests_total",
                                                   "HTTP requests by route and status", labels);
        it->second.latency =
            &metrics_.GetHistogram("joopang_http_request_duration_seconds",
                                   "HTTP request latency by route and status", labels);
    }
    it->second.requests->Add();
    it->second.latency->ObserveNs(elapsed_ns);
}

awaitable<HttpResponse> Api::Handle(HttpRequest& request) {
    auto start = std::chrono::steady_clock::now();
    auto match = router_.Find(request.method, request.path);
    HttpResponse res;
    const Route* route = match.route;  // null unless found
    RequestContext ctx(request, match.params, pool_);
    try {
        if (match.outcome == Router::Outcome::kNotFound) {
            res = ErrorResponse(Error{ErrorCode::kNotFound, "no route for " + request.path},
                                request.path);
        } else if (match.outcome == Router::Outcome::kMethodNotAllowed) {
            res = ErrorResponse(Error{ErrorCode::kMethodNotAllowed,
                                      request.method + " is not allowed on " + request.path},
                                request.path);
            res.headers.emplace_back("Allow", match.allowed);
        } else {
            auto caller = Identify(request, route->options.access);
            auto key = request.Header("idempotency-key");
            // The route's guard (the waiting room) runs before Idempotency-Key, so that its
            // refusal is never replayed.
            Status admitted;
            if (caller) {
                ctx.set_caller(std::move(*caller));
                if (route->options.guard) admitted = co_await route->options.guard(ctx);
            }
            if (!caller) {
                res = ErrorResponse(caller.error(), request.path);
                res.headers.emplace_back("WWW-Authenticate", "Bearer");
            } else if (!admitted) {
                res = ErrorResponse(admitted.error(), request.path);
            } else if (key && route->options.idempotent) {
                if (!ValidIdempotencyKey(*key)) {
                    res = ErrorResponse(Error::Validation("Idempotency-Key",
                                                          "Idempotency-Key must be 1..255 "
                                                          "visible ASCII characters"),
                                        request.path);
                } else {
                    res = co_await RunIdempotent(*route, ctx, std::string(*key));
                }
            } else {
                res = co_await route->handler(ctx);
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("{} {} failed: {}", request.method, request.path, e.what());
        res = ErrorResponse(Error::Internal("internal error"), request.path);
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    res.timing = ServerTiming{ctx.db_ns(), ctx.redis_ns(), elapsed};
    Record(route, res.status, elapsed);
    if (settings_.access_log)
        spdlog::info("{} {} {} {}ms db={}ms redis={}ms", request.method, request.path, res.status,
                     Ms(elapsed), Ms(ctx.db_ns()), Ms(ctx.redis_ns()));
    co_return res;
}

}  // namespace joopang::http
