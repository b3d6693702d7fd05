// Scenario `ranking`: concurrent order/pay writes with ranking reads (SPEC §5, §8).
//
// Setup creates a category with P products (one item each) and N users, and a probe product in a
// category of its own. During the load, `writers` connections order and pay (1..2 units of a
// random product) and the other connections read the category's rankings (random window and
// metric). Meanwhile a probe pays one unit of the probe product every `probe_interval` and times
// how long until the published 1h sales ranking shows it: the end-to-end freshness. Afterwards the
// published 1h, 24h, 3d and 7d sales rankings of the category must equal the units paid.
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <map>
#include <random>

#include "joopang_bench_report.hpp"
#include "joopang_bench_scenarios.hpp"
#include "joopang_bench_setup.hpp"

namespace joopang::bench {
namespace asio = boost::asio;
namespace json = boost::json;
namespace bhttp = boost::beast::http;
using asio::awaitable;

namespace {

constexpr std::size_t kOrder = 0, kPay = 1, kRead = 2;
constexpr const char* kWindows[] = {"1h", "24h", "3d", "7d"};
constexpr const char* kMetrics[] = {"sales", "revenue", "views", "score"};

/// What one connection saw during the load.
struct RankingWorkerData {
    std::map<std::int64_t, std::int64_t> units_paid;  ///< product -> units
    std::uint64_t unknown = 0;                        ///< requests without an answer
    std::uint64_t from_redis = 0, from_database = 0;  ///< ranking answers by source
    std::map<std::string, std::uint64_t> unexpected;  ///< "step: outcome" -> count
};

/// The published ranking of a category as product -> salesQuantity, with its source.
struct RankingRead {
    bool ok = false;
    std::string source;
    std::map<std::int64_t, std::int64_t> sales;
};

awaitable<RankingRead> ReadRanking(HttpConnection& conn,
                                   const std::string& window,
                                   std::int64_t category) {
    RankingRead out;
    auto r = co_await conn.Request(
        bhttp::verb::get, "/api/v1/rankings/products?window=" + window +
                              "&metric=sales&limit=100&categoryId=" + std::to_string(category));
    if (r.status != 200) co_return out;
    auto v = ParseJson(r.body);
    if (!v || !v->is_object()) co_return out;
    out.source = JsonString(*v, "source").value_or("");
    const auto* items = v->get_object().if_contains("items");
    if (!items || !items->is_array()) co_return out;
    for (const auto& it : items->get_array())
        out.sales[JsonInt(it, "productId").value_or(0)] = JsonInt(it, "salesQuantity").value_or(0);
    out.ok = true;
    co_return out;
}

double Answered200(const StepStats& s) {
    auto it = s.outcomes.find("200");
    return it == s.outcomes.end() ? 0 : static_cast<double>(it->second);
}

/// Orders and pays `quantity` of `item` as `token`'s user; true when paid.
awaitable<bool> Buy(HttpConnection& conn,
                    std::int64_t item,
                    std::int64_t quantity,
                    const std::string& token) {
    json::object ob{
        {"recipientName", "Bench Probe"},
        {"items", json::array{json::object{{"productItemId", item}, {"quantity", quantity}}}}};
    auto r = co_await conn.Request(bhttp::verb::post, "/api/v1/orders", json::serialize(ob), token);
    if (r.status != 201) co_return false;
    auto v = ParseJson(r.body);
    auto id = v ? JsonInt(*v, "orderId") : std::nullopt;
    if (!id) co_return false;
    r = co_await conn.Request(bhttp::verb::post,
                              "/api/v1/orders/" + std::to_string(*id) + "/payment", "{}", token);
    co_return r.status == 200;
}

/// The freshness probe: pays one unit of the probe product every interval and, for each payment,
/// polls the published ranking of its category until it shows that many units; records the time
/// from the payment's answer. Payments do not wait for the previous one to show. The probe and
/// its trackers share one strand.
struct FreshnessProbe {
    Histogram latency_us;
    std::uint64_t failures = 0;
    std::atomic<bool> stop{false};  // set from the scenario's strand, read on the probe's

    awaitable<void> Run(Env& env,
                        BenchProduct product,
                        std::int64_t category,
                        std::string token,
                        std::chrono::milliseconds interval,
                        WaitGroup done) {
        auto strand = co_await asio::this_coro::executor;
        HttpConnection conn(strand, env.target, std::chrono::milliseconds(env.opt.timeout_ms));
        std::int64_t sold = 0;
        while (!stop) {
            const auto next = Clock::now() + interval;
            if (co_await Buy(conn, product.item_id, 1, token)) {
                ++tracking_;
                asio::co_spawn(strand, Track(env, product.id, category, ++sold, Clock::now()),
                               asio::detached);
            } else {
                ++failures;
            }
            if (Clock::now() < next)
                co_await Sleep(
                    std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()));
        }
        while (tracking_ > 0) co_await Sleep(std::chrono::milliseconds(10));
        done.Done();
    }

  private:
    awaitable<void> Track(Env& env,
                          std::int64_t product,
                          std::int64_t category,
                          std::int64_t units,
                          Clock::time_point paid) {
        HttpConnection conn(co_await asio::this_coro::executor, env.target,
                            std::chrono::milliseconds(env.opt.timeout_ms));
        while (Clock::now() - paid < std::chrono::seconds(30)) {
            auto read = co_await ReadRanking(conn, "1h", category);
            if (read.ok && read.source == "redis" && read.sales[product] >= units) break;
            co_await Sleep(std::chrono::milliseconds(5));
        }
        latency_us.Record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - paid).count()));
        --tracking_;
    }
    int tracking_ = 0;  // trackers still polling
};

}  // namespace

awaitable<int> RunRanking(Env& env, RankingOptions o) {
    if (!HasAdminToken(env, "ranking")) co_return kExitSetupFailed;
    if (o.writers < 1 || o.writers >= env.opt.connections) {
        std::fprintf(stderr, "--writers must be between 1 and --connections - 1\n");
        co_return kExitSetupFailed;
    }
    const std::string run = RunTag();
    auto setup_start = Clock::now();
    auto category = co_await CreateCategory(env, "bench ranking " + run);
    auto probe_category = co_await CreateCategory(env, "bench ranking probe " + run);
    if (!category || !probe_category) co_return kExitSetupFailed;
    auto products = co_await CreateProducts(env, o.products, "10.00", 100'000'000, *category, run,
                                            o.verify_connections);
    auto probe =
        co_await CreateProducts(env, 1, "10.00", 100'000'000, *probe_category, run + "-probe", 1);
    auto users = co_await CreateUsers(env, o.users + 1, "100000000.00", run, o.verify_connections);
    if (!products || !probe || !users) co_return kExitSetupFailed;
    const double setup_s = SecondsSince(setup_start);
    std::fprintf(stderr, "setup: %d products, %d users in %.2f s\n", o.products, o.users, setup_s);

    FreshnessProbe freshness;
    WaitGroup probe_done(env.control, 1);
    asio::co_spawn(asio::make_strand(env.ioc),
                   freshness.Run(env, (*probe)[0], *probe_category, users->tokens.back(),
                                 std::chrono::milliseconds(o.probe_interval_ms), probe_done),
                   asio::detached);

    std::vector<RankingWorkerData> data(static_cast<std::size_t>(env.opt.connections));
    LoadSpec spec;
    spec.phase = "ranking";
    spec.steps = {"order", "pay", "read ranking"};
    spec.duration_s = o.duration_s;
    spec.connections = env.opt.connections;
    spec.rate = env.opt.rate;
    auto iteration = [&](Worker& w, std::uint64_t) -> awaitable<void> {
        auto& d = data[static_cast<std::size_t>(w.index)];
        std::string outcome;
        if (w.index >= o.writers) {  // a reader
            std::string path =
                "/api/v1/rankings/products?window=" + std::string(kWindows[w.rng() % 4]) +
                "&metric=" + kMetrics[w.rng() % 4] +
                "&limit=10&categoryId=" + std::to_string(*category);
            auto r = co_await w.Send(kRead, bhttp::verb::get, path, {}, {}, &outcome);
            if (r.status == 0) {
                ++d.unknown;
            } else if (r.status != 200) {
                ++d.unexpected["read: " + outcome];
            } else if (auto v = ParseJson(r.body)) {
                (JsonString(*v, "source") == "redis" ? d.from_redis : d.from_database)++;
            }
            co_return;
        }
        const auto& p = (*products)[w.rng() % products->size()];
        const std::size_t u = w.rng() % static_cast<std::size_t>(o.users);
        const std::int64_t qty = 1 + static_cast<std::int64_t>(w.rng() % 2);
        json::object ob{
            {"recipientName", "Bench User"},
            {"items", json::array{json::object{{"productItemId", p.item_id}, {"quantity", qty}}}}};
        auto r = co_await w.Send(kOrder, bhttp::verb::post, "/api/v1/orders", json::serialize(ob),
                                 users->tokens[u], &outcome);
        if (r.status != 201) {
            if (r.status == 0)
                ++d.unknown;
            else
                ++d.unexpected["order: " + outcome];
            co_return;
        }
        auto v = ParseJson(r.body);
        auto id = v ? JsonInt(*v, "orderId") : std::nullopt;
        r = co_await w.Send(kPay, bhttp::verb::post,
                            "/api/v1/orders/" + std::to_string(id.value_or(0)) + "/payment", "{}",
                            users->tokens[u], &outcome);
        if (r.status == 200)
            d.units_paid[p.id] += qty;
        else if (r.status == 0)
            ++d.unknown;
        else
            ++d.unexpected["pay: " + outcome];
    };

    Report report;
    report.scenario = "ranking";
    report.open_loop = env.opt.rate > 0;
    report.config = {{"products", o.products},      {"users", o.users},
                     {"writers", o.writers},        {"readers", env.opt.connections - o.writers},
                     {"durationSec", o.duration_s}, {"probeIntervalMs", o.probe_interval_ms}};
    report.load = co_await RunLoad(env, spec, iteration);
    freshness.stop = true;
    co_await probe_done.Wait();
    report.AddFigure("setupSec", setup_s, "s", "setup (products and users)");

    std::map<std::int64_t, std::int64_t> units_paid;
    std::uint64_t unknown = 0, from_redis = 0, from_database = 0;
    std::map<std::string, std::uint64_t> unexpected;
    for (auto& d : data) {
        for (auto [p, n] : d.units_paid) units_paid[p] += n;
        unknown += d.unknown;
        from_redis += d.from_redis;
        from_database += d.from_database;
        for (const auto& [k, n] : d.unexpected) unexpected[k] += n;
    }
    const double secs = report.load.elapsed_s();
    const auto& steps = report.load.total.steps;
    report.AddFigure("paidOrdersPerSec", secs > 0 ? Answered200(steps[kPay]) / secs : 0, "/s",
                     "paid orders per second", 0);
    report.AddFigure("rankingReadsPerSec", secs > 0 ? Answered200(steps[kRead]) / secs : 0, "/s",
                     "ranking reads per second", 0);
    report.AddFigure("readsFromRedis", static_cast<double>(from_redis), "",
                     "ranking reads answered from the published keys", 0);
    report.AddFigure("readsFromDatabase", static_cast<double>(from_database), "",
                     "ranking reads answered from the database", 0);
    report.AddFigure("freshnessP50Ms", freshness.latency_us.Percentile(50) / 1000.0, "ms",
                     "payment -> published ranking, p50", 0);
    report.AddFigure("freshnessP99Ms", freshness.latency_us.Percentile(99) / 1000.0, "ms",
                     "payment -> published ranking, p99", 0);
    report.AddFigure("freshnessMaxMs", freshness.latency_us.max() / 1000.0, "ms",
                     "payment -> published ranking, max", 0);
    report.AddFigure("freshnessSamples", static_cast<double>(freshness.latency_us.count()), "",
                     "probe payments", 0);
    report.AddCheck("no transport errors", unknown == 0, std::to_string(unknown));
    report.AddCheck("no unexpected answers", unexpected.empty(), [&] {
        std::string out;
        for (const auto& [k, n] : unexpected) out += k + " x" + std::to_string(n) + "; ";
        return out.empty() ? std::string("only 2xx") : out;
    }());
    report.AddCheck("every probe payment shown within 2 s",
                    freshness.failures == 0 && freshness.latency_us.count() > 0 &&
                        freshness.latency_us.max() < 2'000'000,
                    std::to_string(freshness.latency_us.count()) + " samples, " +
                        std::to_string(freshness.failures) + " failed payments");

    // Exactness: each window's published sales ranking equals the units paid, once it settles.
    HttpConnection conn(env.ioc.get_executor(), env.target,
                        std::chrono::milliseconds(env.opt.timeout_ms));
    for (const char* window : kWindows) {
        RankingRead read;
        const auto until = Clock::now() + std::chrono::duration<double>(o.settle_timeout_s);
        do {
            read = co_await ReadRanking(conn, window, *category);
            if (read.ok && read.source == "redis" && read.sales == units_paid) break;
            co_await Sleep(std::chrono::milliseconds(100));
        } while (Clock::now() < until);
        report.AddCheck(std::string("published ") + window + " sales == units paid",
                        read.source == "redis" && read.sales == units_paid,
                        std::to_string(units_paid.size()) + " products");
    }
    co_return FinishReport(report, env.opt);
}

}  // namespace joopang::bench
