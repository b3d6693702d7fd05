#include "http/api.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <unordered_map>

#include "common/clock.hpp"
#include "http/error_response.hpp"
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
         ApiSettings settings)
    : pool_(pool), idempotency_(idempotency), metrics_(metrics), settings_(std::move(settings)) {}

void Api::Seal() {
    for (auto& r : router_.routes())
        r->latency = &metrics_.GetHistogram("joopang_http_request_duration_seconds",
                                            "HTTP request latency by route",
                                            {{"method", r->method}, {"route", r->pattern}});
}

bool Api::IsAdmin(const HttpRequest& request) const {
    auto auth = request.Header("authorization");
    if (!auth || settings_.admin_token.empty()) return false;
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() <= kBearer.size() || auth->substr(0, kBearer.size()) != kBearer) return false;
    std::string_view token = auth->substr(kBearer.size());
    return token.size() == settings_.admin_token.size() &&
           CRYPTO_memcmp(token.data(), settings_.admin_token.data(), token.size()) == 0;
}

awaitable<HttpResponse> Api::RunIdempotent(const Route& route,
                                           RequestContext& ctx,
                                           const std::string& key) {
    auto& req = ctx.request();
    std::string fingerprint = Sha256Hex(req.method + " " + req.path + "\n" + req.body);
    EpochMs ttl = settings_.idempotency_ttl_ms;
    auto claim =
        co_await ctx.Db([&] { return idempotency_.Begin("", key, fingerprint, NowMs(), ttl); });
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
        co_await ctx.Db([&] { return idempotency_.Abandon("", key); });
        std::rethrow_exception(failure);
    }
    if (res.status >= 500 && !res.outcome_unknown) {
        // Nothing was applied: free the key so that a retry runs the request again.
        co_await ctx.Db([&] { return idempotency_.Abandon("", key); });
    } else {
        // Applied, refused, or perhaps applied: a retry replays this answer, never re-runs it.
        auto st = co_await ctx.Db([&] {
            return idempotency_.Complete("", key, StoredResponse{res.status, res.body});
        });
        if (!st) spdlog::warn("could not record Idempotency-Key outcome: {}", st.error().message);
    }
    co_return res;
}

obs::Counter& Api::RequestCounter(const Route* route, int status) {
    // Per-thread cache: the hot path touches only a hash map of this thread, no labels, no lock.
    thread_local std::unordered_map<std::uint64_t, obs::Counter*> cache;
    std::uint64_t key =
        (reinterpret_cast<std::uintptr_t>(route) << 10) ^ static_cast<std::uint64_t>(status & 1023);
    if (route == nullptr) key = static_cast<std::uint64_t>(status & 1023);
    auto [it, inserted] = cache.try_emplace(key, nullptr);
    if (inserted || it->second == nullptr) {
        it->second =
            &metrics_.GetCounter("joopang_http_requests_total", "HTTP requests by route and status",
                                 {{"method", route ? route->method : std::string("-")},
                                  {"route", route ? route->pattern : std::string("unmatched")},
                                  {"status", std::to_string(status)}});
    }
    return *it->second;
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
            if (route->options.admin && !IsAdmin(request)) {
                res = ErrorResponse(
                    Error{ErrorCode::kUnauthorized, "a valid admin bearer token is required"},
                    request.path);
                res.headers.emplace_back("WWW-Authenticate", "Bearer");
            } else if (auto key = request.Header("idempotency-key");
                       key && route->options.idempotent) {
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
    if (route && route->latency) route->latency->ObserveNs(elapsed);
    RequestCounter(route, res.status).Add();
    if (settings_.access_log)
        spdlog::info("{} {} {} {}ms db={}ms redis={}ms", request.method, request.path, res.status,
                     Ms(elapsed), Ms(ctx.db_ns()), Ms(ctx.redis_ns()));
    co_return res;
}

}  // namespace joopang::http
