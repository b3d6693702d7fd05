/// joopang entry point: reads the configuration, builds the components and starts them. Wiring
/// only: threads, event loops and the ordered shutdown are the Runtime's; loops are the workers';
/// rules are the app layer's. This is the only code that sees every layer.

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "app/access_token.hpp"
#include "app/auth_service.hpp"
#include "app/cart_service.hpp"
#include "app/catalog_changes.hpp"
#include "app/catalog_reader.hpp"
#include "app/coupon_service.hpp"
#include "app/drop_monitor.hpp"
#include "app/order_expiry.hpp"
#include "app/outbox_relay.hpp"
#include "app/ranking_publisher.hpp"
#include "app/ranking_reader.hpp"
#include "app/shop_service.hpp"
#include "app/view_counter.hpp"
#include "app/view_flush.hpp"
#include "app/waiting_room.hpp"
#include "http/api.hpp"
#include "http/auth_routes.hpp"
#include "http/cart_routes.hpp"
#include "http/coupon_routes.hpp"
#include "http/dashboard_routes.hpp"
#include "http/queue_routes.hpp"
#include "http/ranking_routes.hpp"
#include "http/server.hpp"
#include "http/shop_routes.hpp"
#include "http/system_routes.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/redis_catalog_change_log.hpp"
#include "infra/redis/redis_coupon_gate.hpp"
#include "infra/redis/redis_coupon_issue_queue.hpp"
#include "infra/redis/redis_event_log.hpp"
#include "infra/redis/redis_health.hpp"
#include "infra/redis/redis_lease.hpp"
#include "infra/redis/redis_login_throttle.hpp"
#include "infra/redis/redis_order_event_group.hpp"
#include "infra/redis/redis_ranking_board.hpp"
#include "infra/redis/redis_ranking_store.hpp"
#include "infra/redis/redis_revocation_log.hpp"
#include "infra/redis/redis_supervisor.hpp"
#include "infra/redis/redis_waiting_line.hpp"
#include "infra/sql/db.hpp"
#include "infra/sql/migrations.hpp"
#include "infra/sql/sql_cart_repository.hpp"
#include "infra/sql/sql_catalog_repository.hpp"
#include "infra/sql/sql_coupon_repository.hpp"
#include "infra/sql/sql_idempotency_store.hpp"
#include "infra/sql/sql_order_repository.hpp"
#include "infra/sql/sql_outbox_repository.hpp"
#include "infra/sql/sql_ranking_history.hpp"
#include "infra/sql/sql_user_repository.hpp"
#include "infra/sql/timed_db.hpp"
#include "main/config.hpp"
#include "main/operator_metrics.hpp"
#include "main/secrets.hpp"
#include "observability/logging.hpp"
#include "observability/metrics.hpp"
#include "runtime/data_dir_lock.hpp"
#include "runtime/runtime.hpp"
#include "workers/coupon_persister.hpp"
#include "workers/job_runner.hpp"
#include "workers/ranking_updater.hpp"

using namespace joopang;

namespace {

/// Counts the catalog cache's answers in joopang_cache_requests_total (cache, result).
CatalogReader::OnRequest CacheRequestCounter() {
    auto counter = [](const char* cache, const char* result) {
        return &obs::Registry::Global().GetCounter(
            "joopang_cache_requests_total",
            "Requests a cache could answer, by cache and result (hit: answered from it)",
            {{"cache", cache}, {"result", result}});
    };
    auto* product_hit = counter("product", "hit");
    auto* product_miss = counter("product", "miss");
    auto* list_hit = counter("product_list", "hit");
    auto* list_miss = counter("product_list", "miss");
    return [=](CatalogReader::Cache cache, bool hit) {
        const bool product = cache == CatalogReader::Cache::kProduct;
        (product ? (hit ? product_hit : product_miss) : (hit ? list_hit : list_miss))->Add();
    };
}

/// How many Redis replicas must have a coupon win before it is answered (--issue-durability):
/// 1 for `replica`, and for `auto` when the master the client reaches has a replica now.
int IssueReplicas(runtime::Runtime& rt, redis::Client& redis, const std::string& durability) {
    if (durability == "local") {
        spdlog::info("issue durability: local (a win is answered once the Redis master decided)");
        return 0;
    }
    auto replicas = boost::asio::co_spawn(rt.JobExecutor(), redis::ConnectedReplicas(redis),
                                          boost::asio::use_future)
                        .get();
    const std::int64_t now = replicas ? *replicas : 0;
    if (!replicas) spdlog::warn("could not read Redis's replicas ({})", replicas.error().message);
    if (durability == "auto" && now == 0) {
        spdlog::info("issue durability: local (auto: the Redis master has no replica)");
        return 0;
    }
    if (now == 0)
        spdlog::warn(
            "issue durability: replica, but the Redis master has no replica now: wins "
            "are answered 503 until one connects");
    spdlog::info("issue durability: replica (a win is answered once a Redis replica has it)");
    return 1;
}

/// A blocking call as a job body: runs on `pool`, resumes on the job runner's executor.
template <class F>
workers::JobBody OnPool(BlockingPool& pool, F f) {
    return [&pool, f]() -> boost::asio::awaitable<Status> {
        auto st = co_await pool.Run(f);
        if (!st) co_return st.error();
        co_return Status{};
    };
}

int Run(Settings s) {
    std::filesystem::create_directories(s.data_dir);
    // The embedded redis-server, when no Redis is configured; stopped last (destroyed last). Its
    // data dir is this process's alone: a previous owner's redis-server is waited for (a restart
    // right after a crash), a live owner is refused.
    std::optional<runtime::DataDirLock> data_dir_lock;
    std::optional<redis::RedisSupervisor> embedded_redis;
    if (s.redis_url.empty()) {
        data_dir_lock.emplace(runtime::DataDirLock::Acquire(
            s.data_dir, std::chrono::seconds(60),
            [](const std::string& what) { spdlog::warn("{}", what); }));
        embedded_redis.emplace(s.embedded_redis);
        embedded_redis->Start();
        s.redis_url = embedded_redis->Url();
    }

    auto opened = sql::OpenDb(s.database_url, s.db_pool);
    if (!opened) throw std::runtime_error("cannot open the database: " + opened.error().message);
    const std::unique_ptr<sql::Db> db = sql::Timed(std::move(*opened));  // timed in /metrics
    std::vector<std::string> notices;
    if (auto st = sql::Migrate(*db, &notices); !st)
        throw std::runtime_error("database migration failed: " + st.error().message);
    for (const auto& notice : notices) spdlog::warn("database migration: {}", notice);
    sql::SqlUserRepository users(*db);
    sql::SqlCatalogRepository catalog(*db);
    sql::SqlOrderRepository orders(*db);
    sql::SqlCartRepository cart_repo(*db);
    sql::SqlCouponRepository coupon_repo(*db);
    sql::SqlIdempotencyStore idempotency(*db);
    sql::SqlOutboxRepository outbox(*db);
    sql::SqlRankingHistory ranking_history(*db);

    BlockingPool blocking(static_cast<std::size_t>(s.db_pool), "db");
    // The persister's transactions run on threads of their own, one per lane, below the request
    // path's priority (docs/architecture.md, "Runtime and shutdown").
    std::optional<BlockingPool> persist_pool;
    if (s.runs_persister)
        persist_pool.emplace(static_cast<std::size_t>(s.persister.lanes), "persist",
                             s.runtime.background_nice);
    RegisterPoolMetrics(obs::Registry::Global(), blocking, "db");
    if (persist_pool) RegisterPoolMetrics(obs::Registry::Global(), *persist_pool, "persist");

    s.runtime.redis_url = s.redis_url;
    runtime::Runtime rt(s.runtime);  // destroyed first: threads join before the pools go
    if (auto st = rt.ConnectRedis(); !st) throw std::runtime_error(st.error().message);
    // The start-up reads below (catalog log, replicas) need a connection, not one still opening.
    if (!rt.AwaitRedis(std::chrono::seconds(5)))
        spdlog::warn("Redis did not answer within 5 s of start; starting without it");
    auto redis = rt.Redis();
    const std::string instance = runtime::InstanceName();

    ViewCounter views;
    ShopService shop(users, catalog, orders, s.shop);
    CartService carts(cart_repo, s.shop);
    // Catalog reads from an in-process cache; every change made here or elsewhere drops entries.
    CatalogReader catalog_reader(shop, catalog, views, s.catalog_cache, CacheRequestCounter());
    redis::RedisCatalogChangeLog catalog_log(redis);
    CatalogChanges catalog_changes(catalog_reader, catalog_log);
    shop.SetCatalogListener(&catalog_changes);
    carts.SetCatalogListener(&catalog_changes);
    // Where the change log ends, before the first read is cached: a change published from then
    // on reaches this instance's cache (then the catalog-sync job follows the log). A later first
    // sync would skip the changes published meanwhile.
    if (auto synced =
            boost::asio::co_spawn(rt.JobExecutor(), catalog_changes.Sync(), boost::asio::use_future)
                .get();
        !synced)
        spdlog::warn(
            "could not find the catalog change log's end yet ({}); cached reads may "
            "miss other instances' changes for up to --catalog-cache-ttl until it is found",
            synced.error().message);
    obs::Registry::Global().AddCollector(
        "joopang_cache_entries", "Entries a cache holds, by cache", [&catalog_reader] {
            return std::vector<std::pair<obs::Labels, double>>{
                {{{"cache", "catalog"}}, static_cast<double>(catalog_reader.size())}};
        });
    obs::Registry::Global().AddCounterCollector(
        "joopang_cache_evictions_total", "Entries a cache evicted for room, by cache",
        [&catalog_reader] {
            return std::vector<std::pair<obs::Labels, double>>{
                {{{"cache", "catalog"}}, static_cast<double>(catalog_reader.evictions())}};
        });
    OrderExpiry order_expiry(orders);
    order_expiry.SetCatalogListener(&catalog_changes);
    s.coupon_gate.wait_replicas = IssueReplicas(rt, *redis, s.issue_durability);
    redis::RedisCouponGate coupon_gate(redis, s.coupon_gate);
    redis::RedisCouponIssueQueue issue_queue(redis);
    CouponService coupons(coupon_repo, users, coupon_gate, issue_queue, blocking);

    std::unique_ptr<redis::RedisCouponIssueQueue> persist_queue;  // on the background reactor
    std::unique_ptr<workers::CouponPersister> persister;
    if (s.runs_persister) {
        s.persister.consumer = instance;
        persist_queue = std::make_unique<redis::RedisCouponIssueQueue>(rt.BackgroundRedis());
        persister = std::make_unique<workers::CouponPersister>(
            rt.BackgroundExecutor(), *persist_queue, coupon_repo, *persist_pool, s.persister);
        persister->Start();
        rt.OnStop("coupon persister", [&] { persister->Stop(); });
    }
    // The ranking updater: order events → ranking counts, beside the persister.
    std::unique_ptr<redis::OrderEventGroup> order_event_group;
    std::unique_ptr<redis::RedisRankingStore> ranking_store;
    std::unique_ptr<workers::RankingUpdater> ranking_updater;
    if (s.runs_persister) {
        s.ranking_updater.consumer = instance;
        order_event_group = redis::MakeOrderEventGroup(rt.BackgroundRedis(), s.order_event_stream);
        ranking_store =
            std::make_unique<redis::RedisRankingStore>(rt.BackgroundRedis(), s.ranking_weights);
        ranking_updater = std::make_unique<workers::RankingUpdater>(
            rt.BackgroundExecutor(), *order_event_group, *ranking_store, s.ranking_updater);
        ranking_updater->Start();
        rt.OnStop("ranking updater", [&] { ranking_updater->Stop(); });
    }

    // Sign-in (the HTTP API's): tokens signed with the shared secret; logouts followed by a job.
    std::unique_ptr<AccessTokenCodec> token_codec;
    std::unique_ptr<redis::RedisLoginThrottle> login_throttle;
    std::unique_ptr<redis::RedisRevocationLog> revocation_log;
    std::unique_ptr<AuthService> auth;
    if (s.serves_http) {
        token_codec = std::make_unique<AccessTokenCodec>(
            ResolveSecret(s.auth_secret, s.data_dir, "auth-secret", 32, "auth secret"));
        login_throttle = std::make_unique<redis::RedisLoginThrottle>(redis);
        revocation_log = std::make_unique<redis::RedisRevocationLog>(redis, s.revocation_keep);
        auth = std::make_unique<AuthService>(users, *login_throttle, *revocation_log, *token_codec,
                                             blocking, s.auth);
        // The revocations logged so far, before the first request (then the job follows them).
        auto loaded = boost::asio::co_spawn(rt.JobExecutor(), auth->SyncRevocations(),
                                            boost::asio::use_future)
                          .get();
        if (!loaded)
            spdlog::warn("could not load revoked tokens yet ({}); retrying in the background",
                         loaded.error().message);
    }

    // What the jobs use is declared before the runner, so that it outlives the jobs' runs.
    redis::RedisRankingStore rankings(redis, s.ranking_weights);
    ViewFlush view_flush(views, catalog, rankings, blocking, instance);
    RankingPublisher ranking_publisher(rankings, ranking_history, blocking, s.ranking_publisher);
    redis::RedisEventLog order_events(redis, s.order_event_stream, 1'000'000);
    OutboxRelay outbox_relay(outbox, order_events, blocking);
    redis::RedisWaitingLine waiting_line(redis, s.queue_ttls);
    WaitingRoom waiting_room(waiting_line, s.queue);
    redis::RedisHealthMonitor redis_health(redis);
    DropMonitor drop_monitor(coupon_repo, coupon_gate, blocking);
    RegisterDropMetrics(obs::Registry::Global(), drop_monitor);
    redis::RedisLeaseStore leases(redis);
    workers::JobRunner jobs(rt.JobExecutor(), &leases, instance);
    if (auth) jobs.Add(s.revocation_sync, [&] { return auth->SyncRevocations(); });
    jobs.Add(s.catalog_sync, [&catalog_changes] { return catalog_changes.Sync(); });
    jobs.Add(s.redis_health, [&redis_health] { return redis_health.Sample(); });
    // Only what serves /metrics and the dashboard reads the drops' sample.
    if (s.serves_http) jobs.Add(s.drop_monitor, [&drop_monitor] { return drop_monitor.Sample(); });
    jobs.Add(s.order_expiry, OnPool(blocking, [&] { return order_expiry.ExpireDue(); }));
    jobs.Add(s.view_flush, [&view_flush] { return view_flush.Flush(); });
    jobs.Add(s.template_sync, [&] { return coupons.SyncTemplates(); });
    // Windows move on (buckets that left a window are taken out of its sums, in small steps)
    // and the rankings that changed are published.
    jobs.Add(s.ranking_refresh, [&ranking_publisher]() -> boost::asio::awaitable<Status> {
        auto report = co_await ranking_publisher.Refresh(NowMs());
        if (!report) co_return report.error();
        co_return Status{};
    });
    jobs.Add(s.outbox_relay, [&outbox_relay]() -> boost::asio::awaitable<Status> {
        auto relayed = co_await outbox_relay.Drain();
        if (!relayed) co_return relayed.error();
        co_return Status{};
    });
    jobs.Add(s.reconcile, [&coupons, repair = s.repair]() -> boost::asio::awaitable<Status> {
        auto report = co_await coupons.Reconcile(repair);
        if (!report) co_return report.error();
        co_return Status{};
    });
    // The waiting room: admission at the global rate (every instance steps the shared bucket),
    // and tokens that ran out leave the line in small chunks.
    jobs.Add(s.queue_admit, [&waiting_room]() -> boost::asio::awaitable<Status> {
        static auto& waiting = obs::Registry::Global().GetGauge("joopang_queue_waiting",
                                                                "waiting-room tokens in line");
        static auto& active =
            obs::Registry::Global().GetGauge("joopang_queue_active", "waiting-room tokens active");
        static auto& last_minute = obs::Registry::Global().GetGauge(
            "joopang_queue_admitted_last_minute",
            "tokens admitted over the last minute (all instances)");
        static auto& paused =
            obs::Registry::Global().GetGauge("joopang_queue_paused", "1 while admission is paused");
        static auto& admitted = obs::Registry::Global().GetCounter(
            "joopang_queue_admitted_total", "tokens this instance's admission steps admitted");
        auto stats = co_await waiting_room.AdmitStep();
        if (!stats) co_return stats.error();
        waiting.Set(static_cast<double>(stats->waiting));
        active.Set(static_cast<double>(stats->active));
        last_minute.Set(static_cast<double>(stats->admitted_last_minute));
        paused.Set(stats->settings.paused ? 1 : 0);
        admitted.Add(static_cast<std::uint64_t>(stats->admitted));
        co_return Status{};
    });
    jobs.Add(s.queue_sweep, [&waiting_room]() -> boost::asio::awaitable<Status> {
        auto dropped = co_await waiting_room.SweepStep(200, 50);
        if (!dropped) co_return dropped.error();
        co_return Status{};
    });
    jobs.Start();
    rt.OnStop("jobs", [&] { jobs.Stop(); });

    // Ranking reads: the published keys, else the database behind a circuit breaker.
    redis::RedisRankingBoard ranking_board(redis, s.ranking_read_timeout);
    RankingReader ranking_reader(ranking_board, ranking_history, blocking, s.ranking_weights,
                                 s.ranking_reader);

    std::unique_ptr<http::Api> api;
    std::unique_ptr<http::Server> server;
    // The order-event stream's figures and dead letters for the admin API (on the I/O threads).
    auto order_events_admin = redis::MakeOrderEventGroup(redis, s.order_event_stream);
    if (s.serves_http) {
        s.api.admin_token =
            ResolveSecret(s.admin_token, s.data_dir, "admin-token", 24, "admin token");
        api = std::make_unique<http::Api>(
            blocking, idempotency, obs::Registry::Global(), s.api,
            [a = auth.get()](std::string_view token) { return a->Authenticate(token); });
        http::RegisterAuthRoutes(api->router(), *auth);
        http::RegisterUserRoutes(api->router(), shop);
        http::RegisterCatalogRoutes(api->router(), shop, catalog_reader);
        http::RegisterOrderRoutes(api->router(), shop);
        http::RegisterCartRoutes(api->router(), carts);
        http::RegisterCouponRoutes(api->router(), coupons);
        http::RegisterRankingRoutes(api->router(), ranking_reader);
        http::RegisterQueueRoutes(api->router(), waiting_room);
        http::ReleaseOnPayment(api->router(), waiting_room);
        std::vector<http::StreamAdmin> stream_admins{http::AdminOf(issue_queue),
                                                     http::AdminOf(*order_events_admin)};
        http::RegisterAdminRoutes(api->router(), coupons, stream_admins);
        http::RegisterDashboardRoutes(api->router(), {.metrics = obs::Registry::Global(),
                                                      .drops = drop_monitor,
                                                      .streams = stream_admins,
                                                      .room = waiting_room,
                                                      .rankings = ranking_reader,
                                                      .instance = instance});
        http::ReadinessProbes probes;
        probes.database = [dbp = db.get()] { return dbp->Ping(); };
        probes.redis = [redis]() -> boost::asio::awaitable<Status> {
            redis::CallOptions quick;
            quick.timeout = std::chrono::milliseconds(500);
            co_return co_await redis->Ping(quick);
        };
        http::RegisterSystemRoutes(api->router(), probes, obs::Registry::Global());
        // Last, so that every route can be named.
        for (const auto& name : http::ProtectRoutes(api->router(), s.queue_protect, waiting_room))
            spdlog::warn("--queue-protect: no route {} (left unprotected)", name);
        server = std::make_unique<http::Server>(
            rt.IoExecutors(), s.server,
            [a = api.get()](http::HttpRequest& r) { return a->Handle(r); });
        server->Bind();
        server->Start();
        // Stops accepting, then lets the requests in flight finish (up to --shutdown-timeout).
        rt.OnStop("http server", [&] {
            server->Stop();
            server->Wait();
        });
        spdlog::info("joopang listening on {} (redis {}, database {})", s.server.listen,
                     redis->Describe(),
                     db->dialect() == sql::Dialect::kSqlite ? "sqlite" : "postgresql");
    } else {
        spdlog::info("joopang worker running (redis {})", redis->Describe());
    }

    int sig = rt.WaitForSignal();
    spdlog::info("signal {} received: shutting down", sig);
    // The server, the jobs and the persister stop (in that order), then Redis closes and the
    // threads join; then the database threads, then the embedded redis-server.
    rt.Shutdown();
    // No database call may still run once the services it calls are destroyed (below).
    blocking.Join();
    if (persist_pool) persist_pool->Join();
    if (embedded_redis) embedded_redis->Stop();
    spdlog::info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Config config;
    if (int code = ParseConfig(argc, argv, config); code >= 0) return code;
    obs::SetUpLogging({config.log_level, config.log_json, config.access_log});
    try {
        return Run(BuildSettings(config));
    } catch (const std::exception& e) {
        spdlog::critical("joopang failed to start: {}", e.what());
        spdlog::shutdown();
        return 1;
    }
}
