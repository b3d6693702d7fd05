#pragma once
/// All settings of joopang, parsed once from flags, JOOPANG_* environment variables and an optional
/// config file (in that order of precedence), then handed out as typed parts.

#include <chrono>
#include <cstdint>
#include <string>

namespace joopang {

struct Config {
    std::string command = "serve";  // serve | worker
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = "./data";
    std::string redis;        // empty: a private redis-server under <data-dir>/redis
    std::string database;     // empty: SQLite at <data-dir>/joopang.db
    std::string admin_token;  // empty: <data-dir>/admin-token (created on first start)
    int threads = 0;          // HTTP I/O threads; 0 = number of cores
    int db_pool = 8;          // database connections = blocking threads
    std::chrono::milliseconds order_ttl{15 * 60 * 1000};
    std::chrono::milliseconds order_expiry_interval{1000};
    std::chrono::milliseconds view_flush_interval{1000};
    std::chrono::milliseconds read_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds shutdown_timeout{10'000};
    std::int64_t max_body_bytes = 1 << 20;
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
    std::chrono::milliseconds reconcile_interval{60'000};
    bool repair = false;
    std::chrono::milliseconds template_sync_interval{30'000};
};

/// Parses argv. Returns the exit code to use when parsing ended the program (--help, errors),
/// or -1 to go on.
int ParseConfig(int argc, char** argv, Config& config);

/// "500ms", "2s", "15m", "1h", or a plain number of seconds.
bool ParseDuration(const std::string& text, std::chrono::milliseconds& out);

}  // namespace joopang
