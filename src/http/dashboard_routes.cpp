#include "http/dashboard_routes.hpp"

#include <array>
#include <chrono>
#include <memory>

#include "http/admin_json.hpp"
#include "http/dashboard_assets.hpp"
#include "http/handler_support.hpp"

namespace joopang::http {
using boost::asio::awaitable;
namespace json = boost::json;

namespace {

/// The page loads only its own assets and talks only to its own origin; it is never framed.
constexpr std::string_view kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

HttpResponse AssetResponse(const DashboardAsset& asset) {
    HttpResponse r;
    r.content_type = asset.content_type;
    r.body = std::string(asset.body);
    r.headers.emplace_back("Content-Security-Policy", std::string(kPagePolicy));
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
}

/// The top 5 of every window for one metric.
awaitable<Result<json::array>> RankingTops(RankingReader& rankings, RankingMetric metric) {
    // A named array, not a braced list: the loop's range lives across the co_awaits.
    static constexpr std::array<std::string_view, 4> kWindows{"1h", "24h", "3d", "7d"};
    json::array out;
    for (std::string_view name : kWindows) {
        RankingQuery query;
        query.window = *FindRankingWindow(name);
        query.metric = metric;
        query.limit = 5;
        auto answer = co_await rankings.Read(query);
        if (!answer) co_return answer.error();
        json::array items;
        for (std::size_t i = 0; i < answer->items.size(); ++i) {
            const auto& t = answer->items[i];
            items.push_back({{"rank", i + 1},
                             {"productId", t.product_id},
                             {"name", t.name},
                             {"score", MetricValue(t, metric)}});
        }
        out.push_back({{"window", name},
                       {"metric", ToString(metric)},
                       {"source", answer->from_database ? "database" : "redis"},
                       {"generatedAtMs", answer->generated_at},
                       {"items", std::move(items)}});
    }
    co_return out;
}

}  // namespace

void RegisterDashboardRoutes(Router& router, DashboardSources sources) {
    router.Add("GET", "/dashboard",
               [](RequestContext&) -> awaitable<HttpResponse> {
                   co_return AssetResponse(kDashboardAssets[0]);
               },
               {.summary = "The operators' live page (asks for the admin token)"});
    router.Add(
        "GET", "/dashboard/{asset}",
        [](RequestContext& ctx) -> awaitable<HttpResponse> {
            for (const auto& asset : kDashboardAssets)
                if (asset.name == ctx.params().at(0)) co_return AssetResponse(asset);
            co_return ErrorResponse(Error{ErrorCode::kNotFound, "no such asset"}, ctx.path());
        },
        {.summary = "The dashboard's scripts, styles and licences"});

    auto shared = std::make_shared<DashboardSources>(std::move(sources));
    router.Add(
        "GET", "/api/v1/admin/dashboard",
        [shared](RequestContext& ctx) -> awaitable<HttpResponse> {
            auto metric_name = ctx.Query("metric");
            auto metric = ParseRankingMetric(metric_name ? *metric_name : "score");
            if (!metric)
                co_return ErrorResponse(
                    Error::Validation("metric", "metric must be sales, revenue, views or score"),
                    ctx.path());
            const auto& s = *shared;
            // Redis or the database failing shows on the page as that part's error, not as a
            // page that stops refreshing.
            json::object body{{"instance", s.instance}};
            auto start = std::chrono::steady_clock::now();
            auto drops = s.drops.Latest();
            json::array drop_items;
            for (const auto& d : drops.drops) drop_items.push_back(ToJson(d));
            body["drops"] = {{"sampledAtMs", drops.sampled_at}, {"items", std::move(drop_items)}};
            auto streams = co_await AllStreamStats(s.streams);
            if (streams) {
                json::array items;
                for (const auto& st : *streams) items.push_back(ToJson(st));
                body["streams"] = std::move(items);
            } else {
                body["streamsError"] = streams.error().message;
            }
            auto queue = co_await s.room.Stats();
            if (queue)
                body["queue"] = ToJson(*queue);
            else
                body["queueError"] = queue.error().message;
            auto tops = co_await RankingTops(s.rankings, *metric);
            if (tops)
                body["rankings"] = std::move(*tops);
            else
                body["rankingsError"] = tops.error().message;
            ctx.timing().redis_ns += (std::chrono::steady_clock::now() - start).count();
            // The page turns counters into rates over the time between two answers: the time
            // of the snapshot, taken after the calls above however long they took.
            body["nowMs"] = NowMs();
            body["metrics"] = ToJson(s.metrics.Snapshot());
            co_return JsonResponse(200, body);
        },
        {.access = Access::kAdmin,
         .summary = "Everything /dashboard shows, in one answer (?metric= for the rankings)"});
}

}  // namespace joopang::http
