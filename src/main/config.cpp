#include "main/config.hpp"

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <iostream>

namespace joopang {

bool ParseDuration(const std::string& text, std::chrono::milliseconds& out) {
    if (text.empty()) return false;
    std::size_t i = 0;
    std::int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        if (n > 1'000'000'000'000) return false;
        n = n * 10 + (text[i++] - '0');
    }
    if (i == 0) return false;
    std::string unit = text.substr(i);
    std::int64_t ms;
    if (unit == "ms")
        ms = n;
    else if (unit.empty() || unit == "s")
        ms = n * 1000;
    else if (unit == "m")
        ms = n * 60'000;
    else if (unit == "h")
        ms = n * 3'600'000;
    else
        return false;
    out = std::chrono::milliseconds(ms);
    return true;
}

namespace {

/// "--order-ttl" → "JOOPANG_ORDER_TTL": every flag has its environment variable.
std::string EnvName(const std::string& flag) {
    std::string env = "JOOPANG_";
    for (char c : flag.substr(2))
        env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return env;
}

/// The option table: one line per setting; the env name and file key derive from the flag.
template <class T>
CLI::Option* Opt(CLI::App& app, const std::string& flag, T& target, const std::string& help) {
    return app.add_option(flag, target, help)->envname(EnvName(flag))->capture_default_str();
}

CLI::Option* DurationOpt(CLI::App& app,
                         const std::string& flag,
                         std::chrono::milliseconds& target,
                         const std::string& help) {
    auto* o = app.add_option_function<std::string>(
        flag,
        [&target, flag](const std::string& v) {
            if (!ParseDuration(v, target))
                throw CLI::ValidationError(flag, "expects a duration like 500ms, 2s, 15m or 1h");
        },
        help + " (duration: 500ms, 2s, 15m, 1h)");
    o->envname(EnvName(flag));
    o->default_str(std::to_string(target.count()) + "ms");
    return o;
}

CLI::Option* FlagOpt(CLI::App& app,
                     const std::string& flag,
                     bool& target,
                     const std::string& help) {
    return app.add_flag(flag, target, help)->envname(EnvName(flag));
}

}  // namespace

int ParseConfig(int argc, char** argv, Config& c) {
    CLI::App app{
        "joopang — a commerce backend for high-traffic sales events.\n"
        "Every flag can also be set by the environment variable shown (JOOPANG_*) or in the "
        "--config file (TOML/INI, keys named like the flags without dashes prefix)."};
    // JOOPANG_CONFIG names the file when --config does not: CLI11 reads the file before any
    // environment variable, so an envname() on --config itself would never be seen.
    const char* config_env = std::getenv("JOOPANG_CONFIG");
    app.set_config("--config", config_env ? config_env : "",
                   "read settings from this TOML/INI file (or the one JOOPANG_CONFIG names)",
                   config_env != nullptr && *config_env != '\0');
    app.fallthrough(true);
    app.require_subcommand(0, 1);
    app.add_subcommand("serve", "run the HTTP API together with the background jobs (default)");
    app.add_subcommand("worker", "run the background consumers and jobs without the HTTP API");

    Opt(app, "--listen", c.listen, "HTTP listen address host:port");
    Opt(app, "--data-dir", c.data_dir, "directory for embedded data (SQLite file, redis-server)");
    Opt(app, "--redis", c.redis,
        "Redis URL: redis://host:port, unix:///path, redis-cluster://h1:p1,h2:p2; "
        "empty = start a private redis-server under <data-dir>/redis");
    Opt(app, "--database", c.database,
        "database URL: postgresql://user@host:port/db or sqlite:///path.db; "
        "empty = SQLite at <data-dir>/joopang.db");
    Opt(app, "--admin-token", c.admin_token,
        "bearer token for admin endpoints; empty = read or create <data-dir>/admin-token");
    Opt(app, "--auth-secret", c.auth_secret,
        "secret that signs access tokens (HMAC-SHA256, at least 16 bytes; every instance needs "
        "the same); empty = read or create <data-dir>/auth-secret");
    DurationOpt(app, "--auth-token-ttl", c.auth_token_ttl, "how long an access token is valid");
    Opt(app, "--user-auth", c.user_auth,
        "how signed-in users are recognised: token (Authorization: Bearer <access token>) or "
        "gateway (the X-User-Id header set by an authenticating gateway in front)")
        ->check(CLI::IsMember({"token", "gateway"}));
    Opt(app, "--login-max-attempts", c.login_max_attempts,
        "sign-in attempts per email without a success before 429 (across instances)")
        ->check(CLI::Range(1, 1000));
    DurationOpt(app, "--login-window", c.login_window,
                "the window sign-in attempts are counted in; 429 lasts until it ends");
    DurationOpt(app, "--revocation-sync-interval", c.revocation_sync_interval,
                "how often each instance reads the logouts of all instances");
    Opt(app, "--ranking-weights", c.ranking_weights,
        "what the `score` ranking weighs: sales (per unit), revenue (per currency unit), views")
        ->check([](const std::string& v) {
            return ParseRankingWeights(v) ? std::string()
                                          : std::string(
                                                "expects sales=…,revenue=…,views=… "
                                                "with numbers >= 0");
        });
    DurationOpt(app, "--ranking-half-life", c.ranking_half_life,
                "the `score` ranking's half-life: a bucket this old counts half (at least 1m; "
                "scores stay finite for about 1,000 half-lives, docs/architecture.md)")
        ->check([](const std::string& v) {
            std::chrono::milliseconds d{};
            return !ParseDuration(v, d) || d >= std::chrono::minutes(1)
                       ? std::string()
                       : std::string("must be at least 1m");
        });
    DurationOpt(app, "--ranking-refresh", c.ranking_refresh,
                "how often the rankings' windows move on and changed rankings are published (one "
                "instance at a time)");
    DurationOpt(app, "--outbox-relay-interval", c.outbox_relay_interval,
                "how often the outbox (order-paid, order-canceled) is relayed to the event stream "
                "(one instance at a time)");
    Opt(app, "--queue-admit-per-second", c.queue_admit_per_second,
        "waiting-room tokens admitted a second, by all instances together (until PATCH "
        "/api/v1/admin/queue changes it)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000}));
    Opt(app, "--queue-max-active", c.queue_max_active,
        "most waiting-room tokens active at once (0 = no cap)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000'000}));
    DurationOpt(app, "--queue-active-ttl", c.queue_active_ttl,
                "an active waiting-room token unused this long is dropped (each use extends it)");
    DurationOpt(app, "--queue-waiting-ttl", c.queue_waiting_ttl,
                "a waiting token its owner has not read this long leaves the line (within a "
                "grace of 1/60 of it, at most 5 s: reads are recorded at most that often)");
    Opt(app, "--queue-protect", c.queue_protect,
        "routes that need an active waiting-room token (X-Queue-Token), comma-separated, e.g. "
        "\"POST /api/v1/orders,POST /api/v1/users/{id}/cart/checkout\"");
    Opt(app, "--threads", c.threads, "HTTP I/O threads (0 = one per core)")
        ->check(CLI::Range(0, 256));
    Opt(app, "--db-pool", c.db_pool, "database connections (and blocking threads)")
        ->check(CLI::Range(1, 256));
    DurationOpt(app, "--order-ttl", c.order_ttl, "how long an unpaid order holds its stock");
    Opt(app, "--catalog-cache-size", c.catalog_cache_size,
        "most product reads kept in memory per instance (list pages: 256)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000'000}));
    DurationOpt(app, "--catalog-cache-ttl", c.catalog_cache_ttl,
                "the longest a cached product read or list page is served (stock shown lags by "
                "at most this; changes drop entries sooner)");
    DurationOpt(app, "--order-expiry-interval", c.order_expiry_interval,
                "how often expired orders are released");
    DurationOpt(app, "--view-flush-interval", c.view_flush_interval,
                "how often counted product views are written to the database");
    DurationOpt(app, "--read-timeout", c.read_timeout,
                "a request must arrive completely within this time, else the connection closes");
    DurationOpt(app, "--idle-timeout", c.idle_timeout, "idle keep-alive connections close after");
    DurationOpt(app, "--shutdown-timeout", c.shutdown_timeout,
                "on SIGTERM/SIGINT, requests in flight get this long to finish");
    Opt(app, "--max-body-bytes", c.max_body_bytes, "largest accepted request body (413 above)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
    Opt(app, "--max-connections", c.max_connections,
        "connections served at once; more are answered 503 and closed")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000}));
    Opt(app, "--max-body-buffer", c.max_body_buffer,
        "bytes of request bodies being received at once over all connections; a body that does "
        "not fit is answered 503 (retry) before it is read")
        ->check(CLI::Range(std::int64_t{1024}, std::int64_t{1} << 40));
    Opt(app, "--log-level", c.log_level, "trace|debug|info|warn|error|off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    FlagOpt(app, "--log-json", c.log_json, "write logs as JSON lines");
    FlagOpt(app, "--access-log", c.access_log, "log one line per HTTP request (info level)");
    Opt(app, "--redis-server-binary", c.redis_server_binary,
        "redis-server executable for the embedded default");

    Opt(app, "--coupon-persister", c.coupon_persister,
        "run the coupon persister (issue stream → database) in this process");
    Opt(app, "--max-deliveries", c.max_deliveries,
        "failed writes of one win before it moves to the dead-letter stream (the other wins of "
        "its stream entry land)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000}));
    Opt(app, "--persist-batch", c.persist_batch,
        "wins per database transaction (read in whole stream entries, so up to one entry more)")
        ->check(CLI::Range(1, 2000));  // one transaction's rows; larger ones gained nothing
    Opt(app, "--persist-lanes", c.persist_lanes,
        "concurrent drain loops (stream consumers) of the persister in this process")
        ->check(CLI::Range(1, 16));
    Opt(app, "--persist-nice", c.persist_nice,
        "nice steps the persister's threads run below the request path (0 = none; more yields "
        "the CPU to requests and drains with what is left)")
        ->check(CLI::Range(0, 19));
    DurationOpt(app, "--persist-retry-delay", c.persist_retry_delay,
                "first retry delay of a win that failed to be written (doubles per failure)");
    DurationOpt(app, "--claim-idle", c.claim_idle,
                "entries pending this long with another consumer are taken over");
    DurationOpt(app, "--forget-consumers-after", c.forget_consumers_after,
                "stream consumers with nothing pending and no read for this long are removed "
                "(0 = never)");
    Opt(app, "--issue-rate-limit", c.issue_rate_limit,
        "coupon issue requests per user per template per second (0 = unlimited)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000'000}));
    Opt(app, "--issue-batch", c.issue_batch,
        "most coupon issue requests (of one I/O thread and template) decided by one Redis script "
        "call; 1 = one call per request")
        ->check(CLI::Range(1, 1000));
    Opt(app, "--issue-in-flight", c.issue_in_flight,
        "most coupon issue script calls (of one I/O thread and template) at Redis at once; the "
        "requests read meanwhile wait and go together in the next")
        ->check(CLI::Range(1, 64));
    DurationOpt(app, "--sold-out-memo", c.sold_out_memo,
                "once a template is sold out, each I/O thread answers users it has already heard "
                "about (409/410) from memory for this long after Redis confirmed the sell-out; "
                "the longest another instance's pause or restore can go unseen (0 = off)");
    Opt(app, "--issue-durability", c.issue_durability,
        "when a coupon win is answered 202: replica = once a Redis replica has it (WAIT; a "
        "failover then loses no acknowledged win), local = once the master decided, auto = "
        "replica when the master has replicas at start")
        ->check(CLI::IsMember({"auto", "replica", "local"}));
    DurationOpt(app, "--issue-replica-timeout", c.issue_replica_timeout,
                "how long a win waits for a replica (replica durability); unconfirmed, it is "
                "answered 503 with its outcome unknown");
    DurationOpt(app, "--reconcile-interval", c.reconcile_interval,
                "how often Redis and the database are compared per template");
    FlagOpt(app, "--repair", c.repair,
            "let the reconciliation job restore Redis counters from the database");
    DurationOpt(app, "--template-sync-interval", c.template_sync_interval,
                "how often coupon template metadata is re-synced into Redis");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    for (auto* sub : app.get_subcommands()) c.command = sub->get_name();
    return -1;
}

}  // namespace joopang
