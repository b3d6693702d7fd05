#include "infra/redis/redis_health.hpp"

#include <algorithm>

#include "infra/redis/numbers.hpp"
#include "observability/metrics.hpp"

namespace joopang::redis {
namespace {

std::int64_t IntField(const std::map<std::string, std::string>& info, const std::string& key) {
    auto it = info.find(key);
    if (it == info.end()) return 0;
    return ParseInteger<std::int64_t>(it->second).value_or(0);
}

/// "ip=10.0.0.2,port=6380,state=online,offset=123,lag=0" → its fields.
std::map<std::string, std::string> ParseReplicaLine(std::string_view line) {
    std::map<std::string, std::string> out;
    while (!line.empty()) {
        const auto comma = line.find(',');
        const auto part = line.substr(0, comma);
        const auto eq = part.find('=');
        if (eq != std::string_view::npos)
            out.emplace(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
        if (comma == std::string_view::npos) break;
        line.remove_prefix(comma + 1);
    }
    return out;
}

obs::Gauge& RedisGauge(const char* name, const char* help, const obs::Labels& labels = {}) {
    return obs::Registry::Global().GetGauge(name, help, labels);
}

}  // namespace

std::map<std::string, std::string> ParseInfo(std::string_view text) {
    std::map<std::string, std::string> out;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        auto line = text.substr(0, eol);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const auto colon = line.find(':');
        if (!line.empty() && line.front() != '#' && colon != std::string_view::npos)
            out.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
        if (eol == std::string_view::npos) break;
        text.remove_prefix(eol + 1);
    }
    return out;
}

RedisHealth HealthFromInfo(const std::map<std::string, std::string>& info,
                           std::int64_t slowlog_length) {
    RedisHealth h;
    h.used_memory_bytes = IntField(info, "used_memory");
    h.aof_enabled = IntField(info, "aof_enabled") == 1;
    auto status = info.find("aof_last_write_status");
    h.aof_last_write_ok = status == info.end() || status->second == "ok";
    h.aof_pending_fsync = IntField(info, "aof_pending_bio_fsync");
    h.aof_delayed_fsync = IntField(info, "aof_delayed_fsync");
    if (auto role = info.find("role"); role != info.end()) h.role = role->second;
    h.replication_offset = IntField(info, "master_repl_offset");
    const auto replicas = IntField(info, "connected_slaves");
    for (std::int64_t i = 0; i < replicas; ++i) {
        auto line = info.find("slave" + std::to_string(i));
        if (line == info.end()) continue;
        auto f = ParseReplicaLine(line->second);
        RedisReplica r;
        r.address = f["ip"] + ":" + f["port"];
        r.state = f["state"];
        r.offset = ParseInteger<std::int64_t>(f["offset"]).value_or(0);
        r.lag_seconds = ParseInteger<std::int64_t>(f["lag"]).value_or(0);
        h.replicas.push_back(std::move(r));
    }
    h.slowlog_length = slowlog_length;
    return h;
}

RedisHealthMonitor::RedisHealthMonitor(std::shared_ptr<Client> client)
    : client_(std::move(client)) {}

Awaitable<Result<std::int64_t>> ConnectedReplicas(Client& client) {
    auto info = co_await client.Command(MakeArgs("INFO", "replication"));
    if (!info) co_return info.error();
    if (!info->IsString()) co_return Error::Unavailable("INFO answered " + info->ToString());
    co_return IntField(ParseInfo(info->str), "connected_slaves");
}

Awaitable<Status> RedisHealthMonitor::Sample() {
    auto info = co_await client_->Command(MakeArgs("INFO"));
    if (!info) co_return info.error();
    if (!info->IsString()) co_return Error::Unavailable("INFO answered " + info->ToString());
    auto slowlog = co_await client_->Command(MakeArgs("SLOWLOG", "LEN"));
    if (!slowlog) co_return slowlog.error();
    if (!slowlog->IsInteger())
        co_return Error::Unavailable("SLOWLOG LEN answered " + slowlog->ToString());
    Publish(HealthFromInfo(ParseInfo(info->str), slowlog->integer));
    co_return Status{};
}

void RedisHealthMonitor::Publish(const RedisHealth& h) {
    static auto& memory = RedisGauge("joopang_redis_used_memory_bytes", "Memory Redis uses");
    static auto& aof = RedisGauge("joopang_redis_aof_enabled", "1 when Redis appends to an AOF");
    static auto& aof_ok =
        RedisGauge("joopang_redis_aof_last_write_ok", "1 when Redis's last AOF write succeeded");
    static auto& pending = RedisGauge("joopang_redis_aof_pending_fsync",
                                      "AOF fsyncs queued in Redis's background thread");
    static auto& delayed = obs::Registry::Global().GetSampledCounter(
        "joopang_redis_aof_delayed_fsyncs_total",
        "AOF fsyncs that waited for an earlier one (since Redis started)");
    static auto& offset =
        RedisGauge("joopang_redis_replication_offset_bytes", "Redis's replication offset");
    static auto& replicas =
        RedisGauge("joopang_redis_connected_replicas", "Replicas connected to the Redis node");
    static auto& slowlog =
        RedisGauge("joopang_redis_slowlog_length", "Entries in Redis's slow log");
    memory.Set(static_cast<double>(h.used_memory_bytes));
    aof.Set(h.aof_enabled ? 1 : 0);
    aof_ok.Set(h.aof_last_write_ok ? 1 : 0);
    pending.Set(static_cast<double>(h.aof_pending_fsync));
    delayed.Set(static_cast<double>(h.aof_delayed_fsync));
    offset.Set(static_cast<double>(h.replication_offset));
    replicas.Set(static_cast<double>(h.replicas.size()));
    slowlog.Set(static_cast<double>(h.slowlog_length));

    std::lock_guard lock(mu_);
    std::vector<std::string> shown;
    for (const auto& r : h.replicas) {
        const obs::Labels labels{{"replica", r.address}};
        RedisGauge("joopang_redis_replica_lag_seconds", "Seconds since a replica last acknowledged",
                   labels)
            .Set(static_cast<double>(r.lag_seconds));
        RedisGauge("joopang_redis_replica_behind_bytes",
                   "Replication bytes a replica has yet to acknowledge", labels)
            .Set(static_cast<double>(std::max<std::int64_t>(0, h.replication_offset - r.offset)));
        shown.push_back(r.address);
    }
    for (const auto& gone : replicas_shown_) {
        if (std::find(shown.begin(), shown.end(), gone) != shown.end()) continue;
        const obs::Labels labels{{"replica", gone}};
        RedisGauge("joopang_redis_replica_lag_seconds", "", labels).Set(0);
        RedisGauge("joopang_redis_replica_behind_bytes", "", labels).Set(0);
    }
    replicas_shown_ = std::move(shown);
}

}  // namespace joopang::redis
