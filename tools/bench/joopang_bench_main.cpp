// joopang-bench: drives a running joopang service over HTTP with a scenario, prints throughput,
// latency percentiles and status counts, verifies the outcome, and can write the report as JSON.
//
//   joopang-bench coupon-drop --url http://127.0.0.1:8080 --admin-token T --users 50000
//                 --coupons 10000 --requests 100000 --connections 256 --json drop.json
//   joopang-bench shop --url http://127.0.0.1:8080 --data-dir ./data --iterations 5000
//   joopang-bench ranking --url http://127.0.0.1:8080 --data-dir ./data --duration 10
//   joopang-bench waiting-room --url http://127.0.0.1:8080 --data-dir ./data --users 2000
//   joopang-bench tokens --auth-secret S --users 50000 --out tokens.txt
//   joopang-bench get --url http://127.0.0.1:8080 --path /api/v1/products/1 --duration 10
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "joopang_bench_scenarios.hpp"
#include "joopang_bench_tokens.hpp"

namespace asio = boost::asio;
using namespace joopang::bench;

namespace {

/// Adds the options every scenario shares, bound to `o` (whose values are the defaults).
void AddCommonOptions(CLI::App* app, CommonOptions& o) {
    app->add_option("--url", o.url, "service base URL (http only)")->capture_default_str();
    app->add_option("-c,--connections", o.connections, "keep-alive connections, one worker each")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app->add_option("-t,--threads", o.threads, "io_context threads")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    app->add_option("--rate", o.rate,
                    "open loop: iterations per second in total (0 = closed loop, back to back); "
                    "latency then counts from the scheduled send time")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app->add_option("--timeout-ms", o.timeout_ms, "per-request timeout")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600000));
    app->add_option("--json", o.json_file, "also write the report as JSON to this file");
    app->add_option("--seed", o.seed, "random seed")->capture_default_str();
    app->add_flag("-q,--quiet", o.quiet, "no progress lines");
    app->add_option("--admin-token", o.admin_token,
                    "admin bearer token (else $JOOPANG_ADMIN_TOKEN, else <data-dir>/admin-token)");
    app->add_option("--data-dir", o.data_dir,
                    "service data directory holding admin-token and auth-secret");
    app->add_option("--auth-secret", o.auth_secret,
                    "the service's --auth-secret, to sign access tokens for users who never "
                    "signed in (else $JOOPANG_AUTH_SECRET, else <data-dir>/auth-secret)");
}

/// The first line of `file`, trailing spaces removed; empty when unreadable.
std::string FirstLine(const std::string& file) {
    std::ifstream f(file);
    std::string line;
    if (f && std::getline(f, line)) {
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
            line.pop_back();
    }
    return line;
}

/// Fills a secret not given from the environment or <data-dir>/<file>, as the service does.
void ResolveSecret(std::string& value,
                   const char* env_name,
                   const std::string& data_dir,
                   const char* file) {
    if (!value.empty()) return;
    if (const char* env = std::getenv(env_name); env && *env) {
        value = env;
        return;
    }
    if (!data_dir.empty()) value = FirstLine(data_dir + "/" + file);
}

void ResolveSecrets(CommonOptions& o) {
    ResolveSecret(o.admin_token, "JOOPANG_ADMIN_TOKEN", o.data_dir, "admin-token");
    ResolveSecret(o.auth_secret, "JOOPANG_AUTH_SECRET", o.data_dir, "auth-secret");
}

int WriteTokens(const CommonOptions& o, const TokensOptions& t) {
    if (o.auth_secret.empty()) {
        std::fprintf(stderr, "joopang-bench tokens: give --auth-secret (or --data-dir)\n");
        return kExitSetupFailed;
    }
    BenchTokens tokens(o.auth_secret);
    std::ofstream file;
    if (t.out != "-") file.open(t.out);
    std::ostream& out = t.out == "-" ? std::cout : file;
    for (std::uint64_t u = 1; u <= t.users; ++u) out << tokens.For(u) << '\n';
    out.flush();
    return out ? 0 : kExitSetupFailed;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"joopang-bench: HTTP load generator and verifier for the joopang service"};
    app.require_subcommand(1);

    CommonOptions drop_common{.connections = 256};
    CouponDropOptions drop;
    auto* drop_cmd = app.add_subcommand(
        "coupon-drop",
        "FCFS coupon drop: create a template of S coupons, fire R issue requests from U users, "
        "verify exactly S distinct winners with positions 1..S, wait until all are persisted");
    AddCommonOptions(drop_cmd, drop_common);
    drop_cmd->add_option("-u,--users", drop.users, "user ids drawn uniformly from 1..U")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
    drop_cmd->add_option("-s,--coupons", drop.coupons, "coupons in the template (S)")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
    drop_cmd->add_option("-n,--requests", drop.requests, "issue requests (R)")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
    drop_cmd
        ->add_option("--drain-timeout", drop.drain_timeout_s,
                     "seconds to wait for issuedQuantity to reach the winners")
        ->capture_default_str();
    drop_cmd
        ->add_option("--poll-interval-ms", drop.poll_interval_ms,
                     "template polling period while waiting for persistence")
        ->capture_default_str()
        ->check(CLI::Range(1, 60000));
    drop_cmd->add_flag("--skip-drain", drop.skip_drain, "do not wait for persistence");
    drop_cmd->add_flag("--skip-reconcile", drop.skip_reconcile,
                       "do not call /api/v1/admin/reconciliation");

    CommonOptions shop_common{.connections = 64};
    ShopOptions shop;
    auto* shop_cmd = app.add_subcommand(
        "shop",
        "browse -> order -> pay: create products and users, loop the three steps per connection, "
        "verify stock never went negative and is fully accounted for, and paid orders match "
        "successful payments");
    AddCommonOptions(shop_cmd, shop_common);
    shop_cmd->add_option("--products", shop.products, "products to create (one item each)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    shop_cmd->add_option("--stock", shop.stock, "initial stock per item")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000000}));
    shop_cmd->add_option("--price", shop.price, "unit price")->capture_default_str();
    shop_cmd->add_option("--users", shop.users, "users to create")
        ->capture_default_str()
        ->check(CLI::Range(1, 10000000));
    shop_cmd->add_option("--balance", shop.balance, "initial balance per user")
        ->capture_default_str();
    shop_cmd->add_option("--max-quantity", shop.max_quantity, "order quantity drawn from 1..this")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    shop_cmd
        ->add_option("-n,--iterations", shop.iterations,
                     "browse/order/pay iterations (0 = run for --duration)")
        ->capture_default_str();
    shop_cmd->add_option("-d,--duration", shop.duration_s, "seconds, when --iterations is 0")
        ->capture_default_str();
    shop_cmd->add_flag("--cart", shop.cart,
                       "order through the cart: PUT the line, then POST checkout (users are "
                       "split between connections; needs --users >= -c)");
    shop_cmd
        ->add_option("--verify-connections", shop.verify_connections,
                     "connections for setup and verification calls")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));

    CommonOptions get_common{.connections = 64};
    GetOptions get;
    auto* get_cmd = app.add_subcommand(
        "get", "GET one path back to back for a fixed time (a wrk-like baseline)");
    AddCommonOptions(get_cmd, get_common);
    get_cmd->add_option("-p,--path", get.path, "request path")->capture_default_str();
    get_cmd->add_option("-d,--duration", get.duration_s, "seconds")->capture_default_str();
    get_cmd
        ->add_option("-n,--requests", get.requests,
                     "stop after this many requests instead of --duration")
        ->capture_default_str();

    CommonOptions tokens_common;
    TokensOptions tokens_opt;
    auto* tokens_cmd = app.add_subcommand(
        "tokens", "print an access token for each user 1..U, a line each (for wrk scripts)");
    AddCommonOptions(tokens_cmd, tokens_common);
    tokens_cmd->add_option("-u,--users", tokens_opt.users, "users 1..U")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}));
    tokens_cmd->add_option("-o,--out", tokens_opt.out, "file ('-' = stdout)")
        ->capture_default_str();

    CommonOptions ranking_common{.connections = 32};
    RankingOptions ranking;
    auto* ranking_cmd = app.add_subcommand(
        "ranking",
        "order/pay writes with ranking reads: times how soon a payment shows in the published "
        "ranking (freshness) and verifies every window's sales ranking equals the units paid");
    AddCommonOptions(ranking_cmd, ranking_common);
    ranking_cmd->add_option("--products", ranking.products, "products to create (at most 100)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    ranking_cmd->add_option("--users", ranking.users, "users to create")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    ranking_cmd->add_option("--writers", ranking.writers, "connections that order and pay")
        ->capture_default_str();
    ranking_cmd->add_option("-d,--duration", ranking.duration_s, "seconds")->capture_default_str();
    ranking_cmd
        ->add_option("--probe-interval-ms", ranking.probe_interval_ms,
                     "how often the freshness probe pays")
        ->capture_default_str()
        ->check(CLI::Range(10, 60000));
    ranking_cmd
        ->add_option("--settle-timeout", ranking.settle_timeout_s,
                     "seconds to wait for the published rankings to match at the end")
        ->capture_default_str();
    CommonOptions waiting_common{.connections = 64};
    WaitingRoomOptions waiting;
    auto* waiting_cmd = app.add_subcommand(
        "waiting-room",
        "N users join the waiting room at once, poll with back-off, are admitted and order; "
        "verifies positions, first-come-first-admitted and the admission rate");
    AddCommonOptions(waiting_cmd, waiting_common);
    waiting_cmd->add_option("--users", waiting.users, "users who join")
        ->capture_default_str()
        ->check(CLI::Range(1, 1'000'000));
    waiting_cmd
        ->add_option("--admit-per-second", waiting.admit_per_second,
                     "the admission rate to set (PATCH /api/v1/admin/queue)")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000}));
    waiting_cmd->add_option("--max-wait", waiting.max_wait_s, "seconds a user polls at most")
        ->capture_default_str();

    CLI11_PARSE(app, argc, argv);

    CLI::App* chosen = app.get_subcommands().front();
    CommonOptions& common = chosen == drop_cmd      ? drop_common
                            : chosen == shop_cmd    ? shop_common
                            : chosen == ranking_cmd ? ranking_common
                            : chosen == waiting_cmd ? waiting_common
                            : chosen == tokens_cmd  ? tokens_common
                                                    : get_common;
    ResolveSecrets(common);
    // A secret the service would refuse (too short) is refused here, before any setup.
    if (!common.auth_secret.empty()) {
        try {
            BenchTokens probe(common.auth_secret);
        } catch (const std::invalid_argument& e) {
            std::fprintf(stderr, "joopang-bench: --auth-secret: %s\n", e.what());
            return kExitSetupFailed;
        }
    }
    if (chosen == tokens_cmd) return WriteTokens(common, tokens_opt);

    Target target;
    try {
        target = Target::Parse(common.url);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "joopang-bench: %s\n", e.what());
        return kExitSetupFailed;
    }

    asio::io_context ioc(common.threads);
    Env env(ioc, common, std::move(target));
    auto scenario = [&]() -> asio::awaitable<int> {
        if (chosen == drop_cmd) co_return co_await RunCouponDrop(env, drop);
        if (chosen == shop_cmd) co_return co_await RunShop(env, shop);
        if (chosen == ranking_cmd) co_return co_await RunRanking(env, ranking);
        if (chosen == waiting_cmd) co_return co_await RunWaitingRoom(env, waiting);
        co_return co_await RunGet(env, get);
    };
    auto result = asio::co_spawn(env.control, scenario(), asio::use_future);
    std::vector<std::thread> threads;
    for (int i = 1; i < common.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : threads) t.join();
    try {
        return result.get();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "joopang-bench: %s\n", e.what());
        return kExitSetupFailed;
    }
}
