#include "http/ranking_routes.hpp"

#include <charconv>
#include <cmath>

#include "common/decimal.hpp"
#include "common/money.hpp"
#include "http/handler_support.hpp"
#include "observability/logging.hpp"
#include "observability/metrics.hpp"

namespace joopang::http {
using boost::asio::awaitable;
namespace json = boost::json;

namespace {

/// An optional query integer in [lo, hi], `fallback` when absent or empty.
Result<std::int64_t> QueryInt(RequestContext& ctx,
                              std::string_view name,
                              std::int64_t lo,
                              std::int64_t hi,
                              std::int64_t fallback) {
    auto text = ctx.Query(name);
    if (!text || text->empty()) return fallback;
    return ParseQueryInt(*text, std::string(name), lo, hi);
}

Result<RankingQuery> ParseRankingQuery(RequestContext& ctx) {
    RankingQuery q;
    auto window = ctx.Query("window");
    auto found = FindRankingWindow(window && !window->empty() ? *window : "24h");
    if (!found) return Error::Validation("window", "window must be 1h, 24h, 3d or 7d");
    q.window = *found;
    auto metric = ctx.Query("metric");
    auto parsed = ParseRankingMetric(metric && !metric->empty() ? *metric : "score");
    if (!parsed)
        return Error::Validation("metric", "metric must be sales, revenue, views or score");
    q.metric = *parsed;
    auto limit = QueryInt(ctx, "limit", 1, 100, 10);
    if (!limit) return limit.error();
    q.limit = static_cast<std::size_t>(*limit);
    auto category = QueryInt(ctx, "categoryId", 1, INT64_MAX, 0);
    if (!category) return category.error();
    q.category_id = *category;
    return q;
}

json::object RankedItem(std::size_t rank, const ProductTally& t) {
    return {{"rank", rank},
            {"productId", t.product_id},
            {"name", t.name},
            {"salesQuantity", t.sales},
            {"revenue", Money::FromCents(t.revenue_cents).ToString()}};
}

/// A ranking's answer, written straight into the body: the hot read of SPEC §5, on which building
/// a JSON tree per request showed. `score` is the metric's value: a count as an integer, revenue
/// in currency units, the score as the shortest decimal that reads back exactly.
HttpResponse RankingResponse(const RankingQuery& q, const RankingAnswer& a) {
    HttpResponse r;
    r.status = 200;
    std::string& b = r.body;
    b.reserve(160 + a.items.size() * 160);
    b += "{\"window\":\"";
    b += q.window.name;
    b += "\",\"metric\":\"";
    b += ToString(q.metric);
    b += "\",\"categoryId\":";
    if (q.category_id)
        AppendDecimal(b, q.category_id);
    else
        b += "null";
    b += ",\"generatedAt\":\"";
    AppendRfc3339(b, a.generated_at);
    b += a.from_database ? "\",\"source\":\"database\",\"items\":["
                         : "\",\"source\":\"redis\",\"items\":[";
    for (std::size_t i = 0; i < a.items.size(); ++i) {
        const auto& t = a.items[i];
        b += i ? ",{\"rank\":" : "{\"rank\":";
        AppendDecimal(b, static_cast<std::int64_t>(i + 1));
        b += ",\"productId\":";
        AppendDecimal(b, t.product_id);
        b += ",\"name\":\"";
        obs::AppendJsonEscaped(b, t.name);
        b += "\",\"score\":";
        if (q.metric == RankingMetric::kSales || q.metric == RankingMetric::kViews) {
            AppendDecimal(b, q.metric == RankingMetric::kSales ? t.sales : t.views);
        } else {
            const double v = MetricValue(t, q.metric);
            char num[32];
            auto res = std::to_chars(num, num + sizeof num, std::isfinite(v) ? v : 0.0);
            b.append(num, res.ptr);
        }
        b += ",\"salesQuantity\":";
        AppendDecimal(b, t.sales);
        b += ",\"revenue\":\"";
        b += Money::FromCents(t.revenue_cents).ToString();
        b += "\",\"views\":";
        AppendDecimal(b, t.views);
        b += '}';
    }
    b += "]}";
    return r;
}

}  // namespace

void RegisterRankingRoutes(Router& router, RankingReader& rankings) {
    auto& registry = obs::Registry::Global();
    const std::string reads = "joopang_ranking_reads_total";
    const std::string help = "Ranking reads answered, by source (published keys or the database)";
    obs::Counter* from_redis = &registry.GetCounter(reads, help, {{"source", "redis"}});
    obs::Counter* from_database = &registry.GetCounter(reads, help, {{"source", "database"}});
    registry.AddCollector("joopang_ranking_breaker_open",
                          "1 while the ranking reads skip Redis (circuit breaker open)",
                          [&rankings] {
                              return std::vector<std::pair<obs::Labels, double>>{
                                  {{}, rankings.breaker_open() ? 1.0 : 0.0}};
                          });
    router.Add(
        "GET", "/api/v1/rankings/products",
        [&rankings, from_redis, from_database](RequestContext& ctx) -> awaitable<HttpResponse> {
            JP_TRY(query, ParseRankingQuery(ctx));
            auto answer = co_await rankings.Read(query);
            if (!answer) co_return ErrorResponse(answer.error(), ctx.path());
            (answer->from_database ? from_database : from_redis)->Add(1);
            co_return RankingResponse(query, *answer);
        },
        {.summary = "Popular products by window, metric and category (SPEC §5)"});

    router.Add("GET", "/api/v1/products/top",
               [&rankings](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(days, QueryInt(ctx, "days", 1, 30, 3));
                   JP_TRY(limit, QueryInt(ctx, "limit", 1, 100, 5));
                   auto answer = co_await rankings.TopSellers(static_cast<int>(days),
                                                              static_cast<std::size_t>(limit));
                   if (!answer) co_return ErrorResponse(answer.error(), ctx.path());
                   json::array items;
                   for (std::size_t i = 0; i < answer->items.size(); ++i)
                       items.push_back(RankedItem(i + 1, answer->items[i]));
                   co_return JsonResponse(
                       200, json::object{{"days", days},
                                         {"limit", limit},
                                         {"generatedAt", FormatRfc3339(answer->generated_at)},
                                         {"items", std::move(items)}});
               },
               {.summary = "The products with the most sales over the last days"});
}

}  // namespace joopang::http
