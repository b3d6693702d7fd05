/// joopang entry point: parses the configuration and wires every layer together. This is the only
/// code that sees all layers.

#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <thread>

#include "app/coupon_service.hpp"
#include "app/shop_service.hpp"
#include "app/view_counter.hpp"
#include "common/thread_setup.hpp"
#include "http/api.hpp"
#include "http/coupon_routes.hpp"
#include "http/server.hpp"
#include "http/shop_routes.hpp"
#include "http/system_routes.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/per_thread_client.hpp"
#include "infra/redis/redis_coupon_store.hpp"
#include "infra/redis/redis_lease.hpp"
#include "infra/redis/redis_supervisor.hpp"
#include "infra/sql/db.hpp"
#include "infra/sql/migrations.hpp"
#include "infra/sql/sql_catalog_repository.hpp"
#include "infra/sql/sql_coupon_repository.hpp"
#include "infra/sql/sql_idempotency_store.hpp"
#include "infra/sql/sql_order_repository.hpp"
#include "infra/sql/sql_user_repository.hpp"
#include "main/config.hpp"
#include "observability/logging.hpp"
#include "observability/metrics.hpp"
#include "workers/coupon_persister.hpp"
#include "workers/periodic_task.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace joopang;

namespace {

/// The admin token: the flag, else <data-dir>/admin-token, created with a random value once.
std::string ResolveAdminToken(const Config& c) {
    if (!c.admin_token.empty()) return c.admin_token;
    fs::path file = fs::path(c.data_dir) / "admin-token";
    if (std::ifstream in(file); in) {
        std::string token;
        std::getline(in, token);
        if (!token.empty()) return token;
    }
    unsigned char raw[24];
    RAND_bytes(raw, sizeof raw);
    std::string token;
    for (unsigned char b : raw) {
        static const char* kHex = "0123456789abcdef";
        token += kHex[b >> 4];
        token += kHex[b & 15];
    }
    std::ofstream out(file);
    out << token << "\n";
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    spdlog::info("created admin token in {}", file.string());
    return token;
}

std::string DatabaseUrl(const Config& c) {
    if (!c.database.empty()) return c.database;
    return "sqlite://" + fs::absolute(fs::path(c.data_dir) / "joopang.db").string();
}

/// A name unique to this process, for stream consumers and lease tokens.
std::string InstanceName() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return std::string(host) + "-" + std::to_string(getpid());
}

/// An io_context whose services can be shut down before it is destroyed (see ShutDownTogether).
class ReactorContext : public asio::io_context {
  public:
    using asio::execution_context::shutdown;
    using asio::io_context::io_context;
};

/// Shuts down every reactor's services — destroying their pending handlers and coroutine frames —
/// before any reactor is destroyed. Objects kept alive by one reactor's coroutines refer to the
/// services of the others (the HTTP server has a sweep timer on every reactor): destroying the
/// contexts one after the other let the last one free them through services already deleted.
struct ShutDownTogether {
    std::vector<ReactorContext*> contexts;
    ~ShutDownTogether() {
        for (auto* c : contexts) c->shutdown();
    }
};

/// Runs `fn` every `period` on the I/O threads until `stopping`; with a lease, on one instance.
asio::awaitable<void> EveryPeriod(std::chrono::milliseconds period,
                                  std::atomic<bool>& stopping,
                                  std::shared_ptr<redis::Client> redis,
                                  std::string lease,
                                  std::string token,
                                  std::function<asio::awaitable<void>()> fn) {
    auto next = std::chrono::steady_clock::now() + period;
    while (!stopping) {
        asio::steady_timer timer(co_await asio::this_coro::executor,
                                 std::chrono::milliseconds(100));
        co_await timer.async_wait(asio::use_awaitable);
        if (std::chrono::steady_clock::now() < next) continue;
        next = std::chrono::steady_clock::now() + period;
        if (!lease.empty()) {
            bool held = co_await redis::TryLease(*redis, lease, token, period);
            if (!held) continue;
        }
        try {
            co_await fn();
        } catch (const std::exception& e) {
            spdlog::error("job {} failed: {}", lease, e.what());
        }
    }
}

int Run(const Config& config) {
    fs::create_directories(config.data_dir);
    std::unique_ptr<redis::RedisSupervisor> supervisor;
    std::string redis_url = config.redis;
    if (redis_url.empty()) {
        supervisor = std::make_unique<redis::RedisSupervisor>(
            redis::SupervisorSettings{config.data_dir, config.redis_server_binary});
        supervisor->Start();
        redis_url = supervisor->Url();
    }

    auto db = sql::OpenDb(DatabaseUrl(config), config.db_pool);
    if (!db) throw std::runtime_error("cannot open the database: " + db.error().message);
    if (auto st = sql::Migrate(**db); !st)
        throw std::runtime_error("database migration failed: " + st.error().message);

    sql::SqlUserRepository users(**db);
    sql::SqlCatalogRepository catalog(**db);
    sql::SqlOrderRepository orders(**db);
    sql::SqlIdempotencyStore idempotency(**db);
    ViewCounter views;
    ShopService shop(users, catalog, orders, views, ShopSettings{config.order_ttl.count()});

    int io_threads =
        config.threads > 0 ? config.threads : static_cast<int>(std::thread::hardware_concurrency());
    if (io_threads <= 0) io_threads = 1;
    // One io_context per I/O thread ("reactors"): HTTP connections are spread over them and need
    // no strands. Each also gets a Redis client of its own (below); the first, `ioc`, also runs
    // the jobs. The persister has a reactor and a Redis client of its own, on a thread below
    // the request path's priority (--persist-nice): decoding and acknowledging its batches never
    // holds up an I/O thread.
    const bool runs_persister = config.coupon_persister || config.command == "worker";
    ReactorContext ioc(1);
    std::vector<std::unique_ptr<ReactorContext>> extra_reactors;
    for (int i = 1; i < io_threads; ++i)
        extra_reactors.push_back(std::make_unique<ReactorContext>(1));
    std::unique_ptr<ReactorContext> persist_reactor;
    if (runs_persister) persist_reactor = std::make_unique<ReactorContext>(1);
    ShutDownTogether shut_down_reactors;  // before they are destroyed, whatever the exit path
    shut_down_reactors.contexts.push_back(&ioc);
    for (auto& r : extra_reactors) shut_down_reactors.contexts.push_back(r.get());
    if (persist_reactor) shut_down_reactors.contexts.push_back(persist_reactor.get());
    // Everything that can fail at start-up happens before the I/O threads run, so a failure is a
    // plain exception with nothing running yet: the admin token, and binding the listen socket.
    std::unique_ptr<http::Server> server;
    http::Api* api_ptr = nullptr;  // set once the routes are registered, before serving starts
    std::string admin_token;
    if (config.command == "serve") {
        admin_token = ResolveAdminToken(config);
        http::ServerSettings settings;
        settings.listen = config.listen;
        settings.read_timeout = config.read_timeout;
        settings.idle_timeout = config.idle_timeout;
        settings.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
        settings.drain_timeout = config.shutdown_timeout;
        std::vector<asio::any_io_executor> reactors{ioc.get_executor()};
        for (auto& r : extra_reactors) reactors.push_back(r->get_executor());
        server = std::make_unique<http::Server>(
            std::move(reactors), settings,
            [&api_ptr](http::HttpRequest& r) { return api_ptr->Handle(r); });
        server->Bind();
    }
    auto work = asio::make_work_guard(ioc);
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> extra_work;
    std::vector<std::thread> threads;
    threads.emplace_back([&ioc] {
        SetUpThisThread("io-0");
        redis::PerThreadClient::BindThisThread(0);
        ioc.run();
    });
    for (std::size_t i = 0; i < extra_reactors.size(); ++i) {
        extra_work.push_back(asio::make_work_guard(*extra_reactors[i]));
        threads.emplace_back([&r = *extra_reactors[i], index = i + 1] {
            SetUpThisThread("io-" + std::to_string(index));
            redis::PerThreadClient::BindThisThread(index);
            r.run();
        });
    }
    if (persist_reactor) {
        extra_work.push_back(asio::make_work_guard(*persist_reactor));
        threads.emplace_back([&r = *persist_reactor, nice = config.persist_nice] {
            SetUpThisThread("persist-io", nice);
            r.run();
        });
    }
    auto stop_io_threads = [&] {
        work.reset();
        extra_work.clear();
        ioc.stop();
        for (auto& r : extra_reactors) r->stop();
        if (persist_reactor) persist_reactor->stop();
        for (auto& t : threads) t.join();
    };

    redis::ClientOptions redis_options;
    redis_options.url = redis_url;
    redis_options.wait_connected = false;
    redis_options.client_name = "joopang";
    // Each reactor is run by one thread (above), and gets its own Redis client: a request is
    // answered without leaving its thread, and each thread pipelines its own commands.
    redis_options.single_threaded_executor = true;
    std::vector<ReactorContext*> reactor_contexts{&ioc};
    for (auto& r : extra_reactors) reactor_contexts.push_back(r.get());
    if (persist_reactor) reactor_contexts.push_back(persist_reactor.get());
    std::vector<std::shared_ptr<redis::Client>> reactor_clients;
    for (auto* context : reactor_contexts) {
        auto client =
            asio::co_spawn(*context, redis::Connect(context->get_executor(), redis_options),
                           asio::use_future)
                .get();
        if (!client) {
            // Only the I/O threads run yet: stop them in order and report.
            spdlog::critical("joopang failed to start: redis: {}", client.error().message);
            for (auto& c : reactor_clients) c->Close();
            stop_io_threads();
            if (supervisor) supervisor->Stop();
            return 1;
        }
        reactor_clients.push_back(*client);
    }
    std::shared_ptr<redis::Client> persist_redis;
    if (persist_reactor) {
        persist_redis = reactor_clients.back();
        reactor_clients.pop_back();
    }
    std::shared_ptr<redis::Client> redis =
        reactor_clients.size() == 1
            ? reactor_clients.front()
            : std::make_shared<redis::PerThreadClient>(std::move(reactor_clients));
    BlockingPool blocking(static_cast<std::size_t>(config.db_pool), "db");
    // The persister's transactions run on threads of their own, one per lane, at a lower CPU
    // priority: under a flood of wins the request path keeps the core and the stream absorbs the
    // backlog (docs/architecture.md); otherwise they take the idle CPU as before.
    std::optional<BlockingPool> persist_pool;
    if (runs_persister)
        persist_pool.emplace(static_cast<std::size_t>(config.persist_lanes), "persist",
                             config.persist_nice);
    const std::string instance = InstanceName();

    sql::SqlCouponRepository coupon_repo(**db);
    redis::RedisCouponStore coupon_store(
        redis, {config.issue_rate_limit, static_cast<std::size_t>(config.issue_batch),
                static_cast<std::size_t>(config.issue_in_flight), config.sold_out_memo});
    CouponService coupons(coupon_repo, users, coupon_store, coupon_store, blocking);
    std::unique_ptr<redis::RedisCouponStore> persist_store;
    std::unique_ptr<workers::CouponPersister> persister;
    if (runs_persister) {
        workers::PersisterSettings ps;
        ps.consumer = instance;
        ps.batch = config.persist_batch;
        ps.lanes = config.persist_lanes;
        ps.max_deliveries = config.max_deliveries;
        ps.retry_delay = config.persist_retry_delay;
        ps.claim_idle = config.claim_idle;
        ps.forget_consumers_after = config.forget_consumers_after;
        persist_store = std::make_unique<redis::RedisCouponStore>(
            persist_redis, redis::CouponStoreSettings{config.issue_rate_limit});
        persister = std::make_unique<workers::CouponPersister>(
            asio::make_strand(*persist_reactor), *persist_store, coupon_repo, *persist_pool, ps);
        persister->Start();
    }
    // Coupon jobs: metadata re-sync (idempotent, every instance) and reconciliation (one
    // instance at a time, under a lease).
    std::atomic<bool> jobs_stopping{false};
    asio::co_spawn(ioc,
                   EveryPeriod(config.template_sync_interval, jobs_stopping, redis, "", instance,
                               [&]() -> asio::awaitable<void> {
                                   if (auto st = co_await coupons.SyncTemplates(); !st)
                                       spdlog::warn("template sync failed: {}", st.error().message);
                               }),
                   asio::detached);
    asio::co_spawn(
        ioc,
        EveryPeriod(config.reconcile_interval, jobs_stopping, redis, "coupon-reconcile", instance,
                    [&]() -> asio::awaitable<void> {
                        auto r = co_await coupons.Reconcile(config.repair);
                        if (!r) spdlog::warn("reconciliation failed: {}", r.error().message);
                    }),
        asio::detached);
    // Templates created while Redis was unreachable, or lost by Redis, are published again now.
    asio::co_spawn(
        ioc, [&]() -> asio::awaitable<void> { co_await coupons.SyncTemplates(); }, asio::detached);

    // Background jobs: idempotent and safe to run on every instance at once (conditional updates).
    std::vector<std::unique_ptr<workers::PeriodicTask>> jobs;
    jobs.push_back(std::make_unique<workers::PeriodicTask>(
        workers::PeriodicSettings{"order-expiry", config.order_expiry_interval},
        [&shop]() -> Status {
            for (;;) {
                auto n = shop.ExpireDueOrders(200);
                if (!n) return n.error();
                if (*n < 200) return {};
            }
        }));
    jobs.push_back(std::make_unique<workers::PeriodicTask>(
        workers::PeriodicSettings{"view-flush", config.view_flush_interval},
        [&views, &catalog]() -> Status {
            auto counts = views.Drain();
            auto st = catalog.AddViews(counts);
            if (!st) views.Restore(counts);
            return st;
        }));
    for (auto& j : jobs) j->Start();

    std::unique_ptr<http::Api> api;
    if (config.command == "serve") {
        api = std::make_unique<http::Api>(blocking, idempotency, obs::Registry::Global(),
                                          http::ApiSettings{admin_token, config.access_log});
        http::RegisterUserRoutes(api->router(), shop);
        http::RegisterCatalogRoutes(api->router(), shop);
        http::RegisterOrderRoutes(api->router(), shop);
        http::RegisterCouponRoutes(api->router(), coupons);
        http::RegisterAdminRoutes(api->router(), coupons, coupon_store);
        http::ReadinessProbes probes;
        sql::Db* dbp = db->get();
        probes.database = [dbp] { return dbp->Ping(); };
        probes.redis = [redis]() -> asio::awaitable<Status> {
            redis::CallOptions quick;
            quick.timeout = std::chrono::milliseconds(500);
            co_return co_await redis->Ping(quick);
        };
        http::RegisterSystemRoutes(api->router(), probes, obs::Registry::Global());
        api->Seal();
        api_ptr = api.get();
        server->Start();
        spdlog::info("joopang listening on {} (redis {}, database {})", config.listen,
                     redis->Describe(),
                     (*db)->dialect() == sql::Dialect::kSqlite ? "sqlite" : "postgresql");
    } else {
        spdlog::info("joopang worker running (redis {})", redis->Describe());
    }

    // Wait for SIGINT/SIGTERM, then shut down in order: stop accepting, let requests in flight
    // finish, stop jobs, close Redis, stop the I/O threads, stop the embedded redis-server.
    std::promise<int> stop_signal;
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (!ec) stop_signal.set_value(sig);
    });
    int sig = stop_signal.get_future().get();
    spdlog::info("signal {} received: shutting down", sig);
    if (server) {
        server->Stop();
        server->Wait();
    }
    for (auto& j : jobs) j->Stop();
    jobs_stopping = true;
    if (persister) persister->Stop();
    redis->Close();
    if (persist_redis) persist_redis->Close();
    stop_io_threads();
    blocking.Stop();
    if (persist_pool) persist_pool->Stop();
    if (supervisor) supervisor->Stop();
    spdlog::info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Config config;
    if (int code = ParseConfig(argc, argv, config); code >= 0) return code;
    obs::SetUpLogging({config.log_level, config.log_json, config.access_log});
    try {
        return Run(config);
    } catch (const std::exception& e) {
        spdlog::critical("joopang failed to start: {}", e.what());
        spdlog::shutdown();
        return 1;
    }
}
