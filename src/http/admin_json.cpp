#include "http/admin_json.hpp"

#include <cmath>

#include "domain/coupon_template.hpp"

namespace joopang::http {
namespace json = boost::json;

json::value ToJson(const QueueStats& s) {
    return {{"waiting", s.waiting},
            {"active", s.active},
            {"admitPerSecond", s.settings.admit_per_second},
            {"maxActive", s.settings.max_active},
            {"paused", s.settings.paused},
            {"admittedLastMinute", s.admitted_last_minute}};
}

json::value ToJson(const StreamStats& s) {
    return {{"name", s.name},
            {"length", s.length},
            {"pending", s.pending},
            {"lag", s.lag},
            {"oldestPendingAgeMs", s.oldest_pending_age_ms},
            {"deliveriesRetried", s.deliveries_retried},
            {"deadLettered", s.dead_lettered},
            {"deadLetterLength", s.dead_letter_length},
            {"consumers", s.consumers}};
}

json::value ToJson(const DropSample& d) {
    json::array keys;
    for (const auto& k : d.keys)
        keys.push_back({{"role", k.role},
                        {"key", k.key},
                        {"type", k.type},
                        {"bytes", k.bytes},
                        {"ttlMs", k.ttl_ms},
                        {"length", k.length}});
    return {{"templateId", d.tmpl.id},
            {"title", d.tmpl.title},
            {"status", ToString(d.tmpl.status)},
            {"totalQuantity", d.tmpl.total_quantity},
            {"reserved", d.counters.reserved},
            {"remaining", d.counters.stock},
            {"persisted", d.tmpl.issued},
            {"keyBytes", d.key_bytes},
            {"bytesPerWinner", d.bytes_per_winner},
            {"keys", std::move(keys)}};
}

json::value ToJson(const std::vector<obs::FamilySnapshot>& families) {
    json::array bounds;
    for (double b : obs::Histogram::kBounds) bounds.push_back(b);
    json::object out;
    for (const auto& f : families) {
        json::array series;
        for (const auto& s : f.series) {
            if (f.type == "histogram" && s.count == 0) continue;
            json::object labels;
            for (const auto& [k, v] : s.labels) labels[k] = v;
            json::object one{{"labels", std::move(labels)}};
            if (f.type == "histogram") {
                json::array buckets;
                for (auto c : s.buckets) buckets.push_back(c);
                one["buckets"] = std::move(buckets);
                one["count"] = s.count;
                one["sum"] = s.sum;
            } else {
                // JSON has no NaN or infinity.
                one["value"] = std::isfinite(s.value) ? json::value(s.value) : json::value(nullptr);
            }
            series.push_back(std::move(one));
        }
        out[f.name] = json::object{{"type", f.type}, {"series", std::move(series)}};
    }
    return {{"bounds", std::move(bounds)}, {"families", std::move(out)}};
}

}  // namespace joopang::http
