#include "app/ranking_event.hpp"

#include <boost/json/parse.hpp>

namespace joopang {
namespace json = boost::json;

namespace {

std::optional<std::int64_t> Int(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_int64()) return std::nullopt;
    return it->value().get_int64();
}

}  // namespace

std::optional<RankingEvent> ParseOrderEvent(std::int64_t outbox_id,
                                            std::string_view topic,
                                            std::string_view payload) {
    RankingEvent e;
    e.outbox_id = outbox_id;
    if (topic == "order-paid")
        e.sign = 1;
    else if (topic == "order-canceled")
        e.sign = -1;
    else
        return std::nullopt;
    boost::system::error_code ec;
    json::value v = json::parse(payload, ec);
    if (ec || !v.is_object() || outbox_id <= 0) return std::nullopt;
    const auto& o = v.get_object();
    auto at = Int(o, "paidAt");
    if (!at) at = Int(o, "at");
    const auto* items = o.if_contains("items");
    if (!at || !items || !items->is_array()) return std::nullopt;
    e.at = *at;
    for (const auto& item : items->get_array()) {
        if (!item.is_object()) return std::nullopt;
        const auto& line = item.get_object();
        auto product = Int(line, "productId");
        auto quantity = Int(line, "quantity");
        auto amount = Int(line, "amountCents");
        if (!product || !quantity || !amount || *product <= 0) return std::nullopt;
        e.lines.push_back({*product, Int(line, "categoryId").value_or(0), *quantity, *amount});
    }
    return e;
}

}  // namespace joopang
