#include "main/operator_metrics.hpp"

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "app/drop_monitor.hpp"
#include "common/blocking_pool.hpp"
#include "observability/metrics.hpp"

namespace joopang {
namespace {

using Samples = std::vector<std::pair<obs::Labels, double>>;

/// One family with a value per live drop.
void PerDrop(obs::Registry& registry,
             const DropMonitor& drops,
             const std::string& name,
             const std::string& help,
             std::function<double(const DropSample&)> value) {
    registry.AddCollector(name, help, [&drops, value = std::move(value)] {
        Samples out;
        for (const auto& d : drops.Latest().drops)
            out.push_back({{{"template", std::to_string(d.tmpl.id)}}, value(d)});
        return out;
    });
}

/// One family with a value per key of each live drop; a key `value` has nothing for has no
/// series (Prometheus's way of saying "none", rather than a sentinel value).
void PerKey(obs::Registry& registry,
            const DropMonitor& drops,
            const std::string& name,
            const std::string& help,
            std::function<std::optional<double>(const DropKey&)> value) {
    registry.AddCollector(name, help, [&drops, value = std::move(value)] {
        Samples out;
        for (const auto& d : drops.Latest().drops)
            for (const auto& k : d.keys)
                if (auto v = value(k))
                    out.push_back({{{"template", std::to_string(d.tmpl.id)}, {"key", k.role}}, *v});
        return out;
    });
}

}  // namespace

void RegisterDropMetrics(obs::Registry& registry, const DropMonitor& drops) {
    registry.AddCollector(
        "joopang_coupon_drop_sample_age_seconds",
        "Seconds since the drop monitor last sampled the live drops (the figures' age)", [&drops] {
            const EpochMs at = drops.Latest().sampled_at;
            if (!at) return Samples{};  // not sampled yet
            return Samples{{{}, static_cast<double>(NowMs() - at) / 1000.0}};
        });
    PerDrop(registry, drops, "joopang_coupon_drop_reserved",
            "Winners decided in Redis, per live coupon template",
            [](const DropSample& d) { return static_cast<double>(d.counters.reserved); });
    PerDrop(registry, drops, "joopang_coupon_drop_remaining",
            "Coupons left in Redis, per live coupon template",
            [](const DropSample& d) { return static_cast<double>(d.counters.stock); });
    PerDrop(registry, drops, "joopang_coupon_drop_persisted",
            "Coupons written to the database, per live coupon template",
            [](const DropSample& d) { return static_cast<double>(d.tmpl.issued); });
    PerDrop(registry, drops, "joopang_redis_memory_per_coupon_winner_bytes",
            "Bytes of a live drop's Redis keys per winner (MEMORY USAGE, sampled)",
            [](const DropSample& d) { return d.bytes_per_winner; });
    PerKey(registry, drops, "joopang_coupon_drop_key_bytes",
           "Redis MEMORY USAGE of each key of a live coupon drop",
           [](const DropKey& k) { return static_cast<double>(k.bytes); });
    PerKey(registry, drops, "joopang_coupon_drop_key_ttl_seconds",
           "Time to live of each key of a live coupon drop (no series: the key never expires)",
           [](const DropKey& k) -> std::optional<double> {
               if (k.ttl_ms < 0) return std::nullopt;
               return k.ttl_ms / 1000.0;
           });
    PerKey(registry, drops, "joopang_coupon_drop_key_length",
           "Elements of each key of a live coupon drop (hash fields, stream entries)",
           [](const DropKey& k) { return static_cast<double>(k.length); });
}

void RegisterPoolMetrics(obs::Registry& registry, const BlockingPool& pool, std::string name) {
    auto one = [&pool, name](auto get) {
        return [&pool, name, get] { return Samples{{{{"pool", name}}, get(pool)}}; };
    };
    registry.AddCollector(
        "joopang_db_pool_threads", "Threads of a blocking pool (one database connection each)",
        one([](const BlockingPool& p) { return static_cast<double>(p.threads()); }));
    registry.AddCollector("joopang_db_pool_busy", "Calls a blocking pool is running now",
                          one([](const BlockingPool& p) { return double(p.running()); }));
    registry.AddCollector("joopang_db_pool_queued", "Calls waiting for a thread of a blocking pool",
                          one([](const BlockingPool& p) { return double(p.waiting()); }));
}

}  // namespace joopang
