#include "http/ranking_routes.hpp"

#include "common/money.hpp"
#include "http/handler_support.hpp"

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

/// The metric's value as `score`: a count as an integer, revenue in currency units.
json::value ScoreOf(const ProductTally& t, RankingMetric metric) {
    switch (metric) {
        case RankingMetric::kSales:
            return t.sales;
        case RankingMetric::kViews:
            return t.views;
        default:
            return MetricValue(t, metric);
    }
}

json::value RankingToJson(const RankingQuery& q, const RankingAnswer& a) {
    json::array items;
    items.reserve(a.items.size());
    for (std::size_t i = 0; i < a.items.size(); ++i) {
        auto item = RankedItem(i + 1, a.items[i]);
        item["views"] = a.items[i].views;
        item["score"] = ScoreOf(a.items[i], q.metric);
        items.push_back(std::move(item));
    }
    return json::object{
        {"window", q.window.name},
        {"metric", ToString(q.metric)},
        {"categoryId", q.category_id ? json::value(q.category_id) : json::value(nullptr)},
        {"generatedAt", FormatRfc3339(a.generated_at)},
        {"source", a.from_database ? "database" : "redis"},
        {"items", std::move(items)}};
}

}  // namespace

void RegisterRankingRoutes(Router& router, RankingReader& rankings) {
    router.Add("GET", "/api/v1/rankings/products",
               [&rankings](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(query, ParseRankingQuery(ctx));
                   auto answer = co_await rankings.Read(query);
                   if (!answer) co_return ErrorResponse(answer.error(), ctx.path());
                   co_return JsonResponse(200, RankingToJson(query, *answer));
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
