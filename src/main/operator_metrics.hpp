#pragma once
/// Gauges computed when /metrics is scraped, from what the service already keeps: the live
/// coupon drops (the drop monitor's last sample) and the blocking pools' use.

#include <string>

namespace joopang {
class BlockingPool;
class DropMonitor;
}  // namespace joopang
namespace joopang::obs {
class Registry;
}

namespace joopang {

/// joopang_coupon_drop_sample_age_seconds,
/// joopang_coupon_drop_{reserved,remaining,persisted}{template},
/// joopang_redis_memory_per_coupon_winner_bytes{template} and
/// joopang_coupon_drop_key_{bytes,ttl_seconds,length}{template,key}.
void RegisterDropMetrics(obs::Registry& registry, const DropMonitor& drops);

/// joopang_db_pool_{threads,busy,queued}{pool}: `pool` is the pool's name ("db", "persist").
void RegisterPoolMetrics(obs::Registry& registry, const BlockingPool& pool, std::string name);

}  // namespace joopang
