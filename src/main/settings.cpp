#include <algorithm>
#include <filesystem>
#include <string>

#include "main/config.hpp"

// Config (what was asked for) → Settings (what each component is given): defaults that are not
// flags, derived values, and the jobs' schedules.

namespace joopang {

Settings BuildSettings(const Config& c) {
    Settings s;
    s.serves_http = c.command == "serve";
    s.runs_persister = c.coupon_persister || c.command == "worker";
    s.data_dir = c.data_dir;
    s.redis_url = c.redis;
    s.embedded_redis = {c.data_dir, c.redis_server_binary};
    s.database_url = !c.database.empty()
                         ? c.database
                         : "sqlite://" + std::filesystem::absolute(
                                             std::filesystem::path(c.data_dir) / "joopang.db")
                                             .string();
    s.admin_token = c.admin_token;
    s.auth_secret = c.auth_secret;
    s.auth.token_ttl_ms = std::max<std::int64_t>(1000, c.auth_token_ttl.count());
    s.auth.login_max_attempts = c.login_max_attempts;
    s.auth.login_window_ms = c.login_window.count();
    s.revocation_keep = c.auth_token_ttl + std::chrono::minutes(5);  // clock skew between hosts
    s.api.user_auth = c.user_auth == "gateway" ? http::UserAuth::kGateway : http::UserAuth::kToken;
    s.db_pool = c.db_pool;

    s.runtime.io_threads = c.threads;
    s.runtime.background_reactor = s.runs_persister;
    s.runtime.background_nice = c.persist_nice;

    s.server.listen = c.listen;
    s.server.read_timeout = c.read_timeout;
    s.server.idle_timeout = c.idle_timeout;
    s.server.max_body_bytes = static_cast<std::size_t>(c.max_body_bytes);
    s.server.max_connections = static_cast<std::size_t>(c.max_connections);
    s.server.max_buffered_body_bytes = static_cast<std::size_t>(c.max_body_buffer);
    s.server.drain_timeout = c.shutdown_timeout;
    s.api.access_log = c.access_log;

    s.shop.order_ttl_ms = c.order_ttl.count();
    s.catalog_cache.capacity = static_cast<std::size_t>(c.catalog_cache_size);
    s.catalog_cache.max_age_ms = c.catalog_cache_ttl.count();
    // Every instance samples Redis's health for its own /metrics (cheap: INFO and SLOWLOG LEN),
    // and the live drops' counters and keys for /metrics and the dashboard (a script per drop).
    s.redis_health = {.name = "redis-health",
                      .period = std::chrono::milliseconds(2000),
                      .max_backoff = std::chrono::milliseconds(10'000)};
    s.drop_monitor = {.name = "drop-monitor",
                      .period = std::chrono::milliseconds(1000),
                      .max_backoff = std::chrono::milliseconds(10'000)};
    // Every instance follows the catalog's change log: its own cache is its own.
    s.catalog_sync = {.name = "catalog-sync",
                      .period = std::chrono::milliseconds(100),
                      .jitter = 0,
                      .max_backoff = std::chrono::milliseconds(1000)};

    s.coupon_gate.rate_limit_per_second = c.issue_rate_limit;
    s.coupon_gate.issue_batch = static_cast<std::size_t>(c.issue_batch);
    s.coupon_gate.issue_in_flight = static_cast<std::size_t>(c.issue_in_flight);
    s.coupon_gate.sold_out_memo = c.sold_out_memo;
    s.coupon_gate.wait_timeout = c.issue_replica_timeout;
    s.issue_durability = c.issue_durability;

    s.persister.name = "coupon persister";
    s.persister.batch = c.persist_batch;
    s.persister.lanes = c.persist_lanes;
    s.persister.max_deliveries = c.max_deliveries;
    s.persister.retry_delay = c.persist_retry_delay;
    s.persister.claim_idle = c.claim_idle;
    s.persister.forget_consumers_after = c.forget_consumers_after;

    // Order expiry and the view flush are idempotent (conditional updates, additive counts):
    // every instance runs them. Template sync too; it also runs once at start, to publish
    // templates created while Redis was unreachable or lost by Redis. Reconciliation compares
    // whole templates and may repair them: one instance at a time.
    s.order_expiry = {.name = "order-expiry", .period = c.order_expiry_interval};
    s.view_flush = {.name = "view-flush", .period = c.view_flush_interval};
    s.template_sync = {
        .name = "template-sync", .period = c.template_sync_interval, .run_at_start = true};
    s.reconcile = {.name = "coupon-reconcile", .period = c.reconcile_interval, .leased = true};
    // Every instance follows the logouts of all instances (not leased).
    s.revocation_sync = {.name = "token-revocations",
                         .period = c.revocation_sync_interval,
                         .jitter = 0,
                         .max_backoff = std::chrono::milliseconds(2000),
                         .run_at_start = false};  // main loads the list before serving
    // One relay at a time keeps the events in order; the lease moves on if its holder dies.
    s.outbox_relay = {.name = "outbox-relay",
                      .period = c.outbox_relay_interval,
                      .max_backoff = std::chrono::milliseconds(5000),
                      .leased = true};
    s.ranking_weights = ParseRankingWeights(c.ranking_weights).value_or(RankingWeights{});
    s.ranking_weights.half_life_ms = c.ranking_half_life.count();  // at least 1m (checked)
    s.ranking_refresh = {.name = "ranking-refresh",
                         .period = c.ranking_refresh,
                         .max_backoff = std::chrono::milliseconds(10'000),
                         .leased = true};
    // The updater drains like the persister (deliveries, retries, reclaiming), in one lane.
    s.ranking_updater = s.persister;
    s.ranking_updater.name = "ranking updater";
    s.ranking_updater.batch = 500;
    s.ranking_updater.lanes = 1;
    s.ranking_updater.quiet_after = std::chrono::milliseconds(0);  // one stream, read at full speed
    s.queue = {c.queue_admit_per_second, c.queue_max_active, false};
    s.queue_ttls = {std::max<std::int64_t>(1000, c.queue_waiting_ttl.count()),
                    std::max<std::int64_t>(1000, c.queue_active_ttl.count())};
    for (std::size_t from = 0; from < c.queue_protect.size();) {
        auto comma = c.queue_protect.find(',', from);
        if (comma == std::string::npos) comma = c.queue_protect.size();
        auto name = c.queue_protect.substr(from, comma - from);
        if (name.find_first_not_of(' ') != std::string::npos) s.queue_protect.push_back(name);
        from = comma + 1;
    }
    // Admission is one atomic step on a token bucket in Redis: every instance may take it (the
    // rate stays the global one), so no lease, and no pause when an instance dies. Dropping
    // tokens that ran out is bounded work better done once: leased.
    s.queue_admit = {.name = "queue-admit",
                     .period = std::chrono::milliseconds(100),
                     .jitter = 0,
                     .max_backoff = std::chrono::milliseconds(2000)};
    s.queue_sweep = {.name = "queue-sweep",
                     .period = std::chrono::milliseconds(1000),
                     .max_backoff = std::chrono::milliseconds(5000),
                     .leased = true};
    s.repair = c.repair;
    return s;
}

}  // namespace joopang
