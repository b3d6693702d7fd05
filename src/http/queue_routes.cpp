#include "http/queue_routes.hpp"

#include <spdlog/spdlog.h>

#include "http/admin_json.hpp"
#include "http/handler_support.hpp"

namespace joopang::http {
using boost::asio::awaitable;
namespace json = boost::json;

namespace {

HttpResponse TicketResponse(int status, const QueueView& v) {
    json::object o{
        {"token", v.ticket.token},
        {"status", v.ticket.state == QueueState::kActive ? "ACTIVE" : "WAITING"},
        {"position", v.ticket.position},
        {"estimatedWaitMs", v.estimated_wait_ms},
        {"expiresAt", FormatRfc3339(v.ticket.expires_at)},
    };
    return JsonResponse(status, o);
}

HttpResponse StatsResponse(const QueueStats& s) { return JsonResponse(200, ToJson(s)); }

/// The user whose token a caller reads or leaves: itself; the admin any (0).
std::int64_t Reader(const RequestContext& ctx) {
    return ctx.caller().is_admin() ? 0 : ctx.caller().user_id;
}

/// A route's name split into its method and its segments, `{…}` captures made alike.
std::pair<std::string, std::vector<std::string>> RouteName(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    auto space = text.find(' ');
    std::string method(text.substr(0, space));
    for (auto& c : method)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    std::vector<std::string> segments;
    if (space == std::string_view::npos) return {method, segments};
    std::string_view path = text.substr(space + 1);
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        std::string seg(path.substr(0, slash));
        if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') seg = "{}";
        segments.push_back(std::move(seg));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return {method, segments};
}

}  // namespace

void RegisterQueueRoutes(Router& router, WaitingRoom& room) {
    router.Add("POST", "/api/v1/queue/tokens",
               [&room](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(body, ParseOptionalJsonObject(ctx.request().body));
                   JP_TRY(named, JsonFields(body).OptId("userId"));
                   JP_TRY(user, ctx.ActingUser(named));
                   auto joined = co_await room.Join(user);
                   if (!joined) co_return ErrorResponse(joined.error(), ctx.path());
                   co_return TicketResponse(joined->ticket.created ? 201 : 200, *joined);
               },
               {.access = Access::kUser,
                .summary = "Join the waiting room (the user's live token if it has one)"});

    router.Add("GET", "/api/v1/queue/tokens/{token}",
               [&room](RequestContext& ctx) -> awaitable<HttpResponse> {
                   const std::string token(ctx.params().at(0));
                   auto read = co_await room.Read(token, Reader(ctx));
                   if (!read) co_return ErrorResponse(read.error(), ctx.path());
                   co_return TicketResponse(200, *read);
               },
               {.access = Access::kUser,
                .summary = "A queue token's status, position and estimated wait (its owner)"});

    router.Add(
        "DELETE", "/api/v1/queue/tokens/{token}",
        [&room](RequestContext& ctx) -> awaitable<HttpResponse> {
            const std::string token(ctx.params().at(0));
            auto st = co_await room.Leave(token, Reader(ctx));
            if (!st) co_return ErrorResponse(st.error(), ctx.path());
            HttpResponse r;
            r.status = 204;
            co_return r;
        },
        {.access = Access::kUser, .summary = "Leave the waiting room, or free an active slot"});

    router.Add("GET", "/api/v1/admin/queue",
               [&room](RequestContext& ctx) -> awaitable<HttpResponse> {
                   auto stats = co_await room.Stats();
                   if (!stats) co_return ErrorResponse(stats.error(), ctx.path());
                   co_return StatsResponse(*stats);
               },
               {.access = Access::kAdmin, .summary = "The waiting room's sizes and settings"});

    router.Add("PATCH", "/api/v1/admin/queue",
               [&room](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JsonFields f(body);
                   JP_TRY(rate, f.OptInt("admitPerSecond", 1, 1'000'000));
                   JP_TRY(cap, f.OptInt("maxActive", 0, 1'000'000'000));
                   std::optional<bool> paused;
                   if (const auto* v = body.if_contains("paused")) {
                       if (!v->is_bool())
                           co_return ErrorResponse(
                               Error::Validation("paused", "paused must be true or false"),
                               ctx.path());
                       paused = v->get_bool();
                   }
                   for (const auto& [key, value] : body)
                       if (key != "admitPerSecond" && key != "maxActive" && key != "paused")
                           co_return ErrorResponse(
                               Error::Validation(std::string(key),
                                                 "unknown field: admitPerSecond, maxActive and "
                                                 "paused can be changed"),
                               ctx.path());
                   auto stats = co_await room.Configure(rate, cap, paused);
                   if (!stats) co_return ErrorResponse(stats.error(), ctx.path());
                   co_return StatsResponse(*stats);
               },
               {.access = Access::kAdmin,
                .summary = "Change the admission rate, the cap on active users, or pause"});
}

std::vector<std::string> ProtectRoutes(Router& router,
                                       const std::vector<std::string>& protect,
                                       WaitingRoom& room) {
    std::vector<std::string> unmatched;
    for (const auto& name : protect) {
        auto wanted = RouteName(name);
        bool found = false;
        for (const auto& route : router.routes()) {
            if (RouteName(route->method + " " + route->pattern) != wanted) continue;
            found = true;
            route->options.guard = [&room](RequestContext& ctx) -> awaitable<Status> {
                if (!ctx.caller().is_user()) co_return Status{};  // the admin passes
                auto token = ctx.request().Header("x-queue-token");
                co_return co_await room.CheckActive(token, ctx.caller().user_id);
            };
        }
        if (!found) unmatched.push_back(name);
    }
    return unmatched;
}

void ReleaseOnPayment(Router& router, WaitingRoom& room) {
    for (const auto& route : router.routes()) {
        if (route->method != "POST" || route->pattern != "/api/v1/orders/{id}/payment") continue;
        route->handler = [&room,
                          pay = route->handler](RequestContext& ctx) -> awaitable<HttpResponse> {
            HttpResponse res = co_await pay(ctx);
            // The order's owner paid, whether by its own token or by the admin's acting for it
            // (a successful payment is only ever the owner's).
            std::optional<std::int64_t> owner = ctx.acted_for();
            if (res.status == 200 && owner) {
                // The slot is the shop's capacity: a failure here only leaves it until the
                // active TTL frees it.
                auto st = co_await room.Release(*owner);
                if (!st)
                    spdlog::warn("could not free the waiting-room slot of user {}: {}", *owner,
                                 st.error().message);
            }
            co_return res;
        };
    }
}

}  // namespace joopang::http
