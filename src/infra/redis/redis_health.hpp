#pragma once
/// Redis health as the operators of a Redis-first service watch it (SPEC §7): used memory, AOF
/// status (last write ok, fsyncs pending), replication (offset, and each replica's offset and
/// lag) and slow-log length, sampled by a job from INFO and SLOWLOG LEN on the node the client
/// reaches without a key, and published as `joopang_redis_*` gauges in /metrics.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "infra/redis/client.hpp"

namespace joopang::redis {

struct RedisReplica {
    std::string address;  // ip:port
    std::string state;    // online, wait_bgsave…
    std::int64_t offset = 0;
    std::int64_t lag_seconds = 0;  // since its last acknowledgement
};

struct RedisHealth {
    std::int64_t used_memory_bytes = 0;
    bool aof_enabled = false;
    bool aof_last_write_ok = true;
    std::int64_t aof_pending_fsync = 0;  // background fsyncs queued (aof_pending_bio_fsync)
    std::int64_t aof_delayed_fsync = 0;  // fsyncs that had to wait for an earlier one
    std::string role;                    // master / slave
    std::int64_t replication_offset = 0;
    std::vector<RedisReplica> replicas;
    std::int64_t slowlog_length = 0;
};

/// `INFO` text → field → value (section headers and blank lines skipped).
std::map<std::string, std::string> ParseInfo(std::string_view text);

/// RedisHealth from the INFO fields (memory, persistence, replication) and SLOWLOG LEN.
RedisHealth HealthFromInfo(const std::map<std::string, std::string>& info,
                           std::int64_t slowlog_length);

/// Replicas connected to the master the client reaches without a key (INFO replication's
/// connected_slaves): whether wins can be confirmed on a replica (--issue-durability auto).
Awaitable<Result<std::int64_t>> ConnectedReplicas(Client& client);

class RedisHealthMonitor {
  public:
    explicit RedisHealthMonitor(std::shared_ptr<Client> client);

    /// Reads INFO and SLOWLOG LEN and publishes them; the job's body.
    Awaitable<Status> Sample();

  private:
    void Publish(const RedisHealth& health);

    std::shared_ptr<Client> client_;
    std::mutex mu_;
    std::vector<std::string> replicas_shown_;  // replica gauges set last time (zeroed when gone)
};

}  // namespace joopang::redis
