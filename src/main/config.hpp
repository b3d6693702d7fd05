#pragma once
/// All settings of joopang, parsed once from flags, an optional config file (--config, or the
/// file JOOPANG_CONFIG names) and JOOPANG_* environment variables, in that order of precedence
/// (CLI11 reads the file before the environment), then handed out as typed parts.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "app/auth_service.hpp"
#include "app/catalog_reader.hpp"
#include "app/ports/waiting_line.hpp"
#include "app/ranking_publisher.hpp"
#include "app/ranking_reader.hpp"
#include "app/shop_service.hpp"
#include "domain/ranking.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "infra/redis/redis_coupon_gate.hpp"
#include "infra/redis/redis_supervisor.hpp"
#include "runtime/runtime.hpp"
#include "workers/coupon_persister.hpp"
#include "workers/job_runner.hpp"

namespace joopang {

struct Config {
    std::string command = "serve";  // serve | worker
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = "./data";
    std::string redis;        // empty: a private redis-server under <data-dir>/redis
    std::string database;     // empty: SQLite at <data-dir>/joopang.db
    std::string admin_token;  // empty: <data-dir>/admin-token (created on first start)
    std::string auth_secret;  // empty: <data-dir>/auth-secret (created on first start)
    std::chrono::milliseconds auth_token_ttl{3600 * 1000};
    std::string user_auth = "token";  // token | gateway
    int login_max_attempts = 5;
    std::chrono::milliseconds login_window{15 * 60 * 1000};
    std::chrono::milliseconds revocation_sync_interval{250};
    std::chrono::milliseconds outbox_relay_interval{200};
    std::string ranking_weights = "sales=1,revenue=0,views=0.1";
    std::chrono::milliseconds ranking_half_life{24 * 3600 * 1000};
    std::chrono::milliseconds ranking_refresh{1000};
    std::int64_t queue_admit_per_second = 100;
    std::int64_t queue_max_active = 0;
    std::chrono::milliseconds queue_active_ttl{5 * 60 * 1000};
    std::chrono::milliseconds queue_waiting_ttl{5 * 60 * 1000};
    std::string queue_protect;  // "POST /api/v1/orders,…"
    int threads = 0;            // HTTP I/O threads; 0 = number of cores
    int db_pool = 8;            // database connections = blocking threads
    std::chrono::milliseconds order_ttl{15 * 60 * 1000};
    std::int64_t catalog_cache_size = 10'000;
    std::chrono::milliseconds catalog_cache_ttl{1000};
    std::chrono::milliseconds order_expiry_interval{1000};
    std::chrono::milliseconds view_flush_interval{1000};
    std::chrono::milliseconds read_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds shutdown_timeout{10'000};
    std::int64_t max_body_bytes = 1 << 20;
    std::int64_t max_connections = 10000;
    std::int64_t max_body_buffer = 64 << 20;
    std::string log_level = "info";
    bool log_json = false;
    bool access_log = false;
    std::string redis_server_binary = "redis-server";
    // Coupon drops
    bool coupon_persister = true;
    std::int64_t max_deliveries = 5;
    int persist_batch = 2000;
    int persist_lanes = 3;
    /// Nice steps the persister's threads (its reactor, its database threads) run below the
    /// request path, so the request path comes first when both want the CPU.
    int persist_nice = 10;
    std::chrono::milliseconds persist_retry_delay{1000};
    std::chrono::milliseconds claim_idle{5000};
    std::chrono::milliseconds forget_consumers_after{600000};
    std::int64_t issue_rate_limit = 20;
    int issue_batch = 128;
    int issue_in_flight = 2;
    std::chrono::milliseconds sold_out_memo{50};
    std::string issue_durability = "auto";
    std::chrono::milliseconds issue_replica_timeout{100};
    std::chrono::milliseconds reconcile_interval{60'000};
    bool repair = false;
    std::chrono::milliseconds template_sync_interval{30'000};
};

/// The configuration cut into the parts each component takes (built by BuildSettings).
struct Settings {
    bool serves_http = true;     // `serve`; `worker` runs only the consumers and jobs
    bool runs_persister = true;  // the coupon persister runs in this process
    std::string data_dir;
    /// Empty: an embedded redis-server (see `embedded_redis`) whose URL the runtime then uses.
    std::string redis_url;
    redis::SupervisorSettings embedded_redis;
    std::string database_url;  // the SQLite default already resolved under the data dir
    std::string admin_token;   // empty: read or create <data-dir>/admin-token
    std::string auth_secret;   // empty: read or create <data-dir>/auth-secret
    AuthSettings auth;
    /// How long the revocation log keeps a logout: the longest a token it names can live.
    std::chrono::milliseconds revocation_keep{0};
    int db_pool = 8;
    runtime::RuntimeSettings runtime;  // redis_url is set once the Redis URL is known
    http::ServerSettings server;
    http::ApiSettings api;  // admin_token is set once resolved
    ShopSettings shop;
    CatalogReader::Settings catalog_cache;
    workers::JobSettings catalog_sync;
    workers::JobSettings redis_health;
    workers::JobSettings drop_monitor;
    redis::CouponGateSettings coupon_gate;      // wait_replicas is set once Redis is reached
    std::string issue_durability;               // auto | replica | local
    workers::StreamConsumerSettings persister;  // consumer is set to the instance name
    workers::JobSettings order_expiry;
    workers::JobSettings view_flush;
    workers::JobSettings template_sync;
    workers::JobSettings reconcile;
    workers::JobSettings revocation_sync;
    workers::JobSettings outbox_relay;
    /// The stream relayed outbox events go to (order-paid, order-canceled).
    std::string order_event_stream = "order-events:{rank}";
    RankingWeights ranking_weights;
    workers::StreamConsumerSettings ranking_updater;  // consumer is set to the instance name
    workers::JobSettings ranking_refresh;
    RankingPublisher::Settings ranking_publisher;
    RankingReader::Settings ranking_reader;
    /// A ranking read from Redis gives up after this (then the database answers).
    std::chrono::milliseconds ranking_read_timeout{250};
    /// The waiting room: the flags' admission settings (until the operator changes them), how
    /// long tokens live, and the routes it protects.
    QueueSettings queue;
    QueueTtls queue_ttls;
    std::vector<std::string> queue_protect;
    workers::JobSettings queue_admit;
    workers::JobSettings queue_sweep;
    bool repair = false;
};

Settings BuildSettings(const Config& config);

/// Parses argv. Returns the exit code to use when parsing ended the program (--help, errors),
/// or -1 to go on.
int ParseConfig(int argc, char** argv, Config& config);

/// "500ms", "2s", "15m", "1h", or a plain number of seconds.
bool ParseDuration(const std::string& text, std::chrono::milliseconds& out);

}  // namespace joopang
