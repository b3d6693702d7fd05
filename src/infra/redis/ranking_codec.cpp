#include "infra/redis/ranking_codec.hpp"

#include <boost/json.hpp>

namespace joopang::redis {
namespace json = boost::json;

std::string EncodePublishedRanking(const PublishedRanking& ranking) {
    json::array items;
    items.reserve(ranking.items.size());
    for (const auto& t : ranking.items)
        items.push_back(json::array{t.product_id, json::string(t.name), t.sales, t.revenue_cents,
                                    t.views, t.score});
    return json::serialize(
        json::object{{"generatedAt", ranking.generated_at}, {"items", std::move(items)}});
}

std::optional<PublishedRanking> DecodePublishedRanking(std::string_view text) {
    json::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    const auto* at = o.if_contains("generatedAt");
    const auto* items = o.if_contains("items");
    if (!at || !at->is_int64() || !items || !items->is_array()) return std::nullopt;
    PublishedRanking out;
    out.generated_at = at->get_int64();
    out.items.reserve(items->get_array().size());
    for (const auto& item : items->get_array()) {
        const auto* a = item.if_array();
        if (!a || a->size() != 6 || !(*a)[0].is_int64() || !(*a)[1].is_string() ||
            !(*a)[2].is_int64() || !(*a)[3].is_int64() || !(*a)[4].is_int64() ||
            !(*a)[5].is_number())
            return std::nullopt;
        ProductTally t;
        t.product_id = (*a)[0].get_int64();
        t.name = std::string((*a)[1].get_string());
        t.sales = (*a)[2].get_int64();
        t.revenue_cents = (*a)[3].get_int64();
        t.views = (*a)[4].get_int64();
        t.score = (*a)[5].to_number<double>();
        out.items.push_back(std::move(t));
    }
    return out;
}

std::string RankingScopeName(std::int64_t category_id) {
    if (category_id == 0) return "all";
    std::string name = "c";
    name.append(std::to_string(category_id));
    return name;
}

std::string PublishedRankingKey(std::string_view window,
                                RankingMetric metric,
                                std::int64_t category_id) {
    std::string key = "rank:{rank}:top:";
    key.append(window).append(":").append(ToString(metric)).append(":");
    key.append(RankingScopeName(category_id));
    return key;
}

}  // namespace joopang::redis
