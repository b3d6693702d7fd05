// The scenarios of joopang-bench. Each runs as a coroutine on Env::control and returns the exit
// code: 0 PASS, 1 verification failed, 3 setup failed (service unreachable, admin call refused).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "joopang_bench_runner.hpp"

namespace joopang::bench {

/// Exit code when the scenario could not be set up (service unreachable, admin call refused).
constexpr int kExitSetupFailed = 3;

/// `coupon-drop`: S coupons, R issue requests from U users; verifies and times persistence.
struct CouponDropOptions {
    std::uint64_t users = 50000;      ///< user ids are drawn uniformly from 1..users
    std::uint64_t coupons = 10000;    ///< template totalQuantity (S)
    std::uint64_t requests = 100000;  ///< issue requests (R)
    double drain_timeout_s = 120;     ///< how long to wait for issuedQuantity == winners
    int poll_interval_ms = 100;       ///< template polling period while draining
    bool skip_drain = false;          ///< do not wait for persistence (persister off)
    bool skip_reconcile = false;      ///< do not call the reconciliation endpoints
};

/// `tokens`: writes one access token per user 1..users, a line each (for wrk scripts).
struct TokensOptions {
    std::uint64_t users = 50000;
    std::string out = "-";  ///< file, or "-" for stdout
};

/// `shop`: browse -> order -> pay per iteration over P products and N users.
struct ShopOptions {
    int products = 20;                  ///< products created (one item each)
    std::int64_t stock = 500;           ///< initial stock per item
    std::string price = "1000.00";      ///< unit price
    int users = 200;                    ///< users created
    std::string balance = "100000.00";  ///< initial wallet balance per user
    int max_quantity = 2;               ///< order quantity drawn from 1..max_quantity
    std::uint64_t iterations = 5000;    ///< iterations (0 = use duration)
    double duration_s = 0;              ///< run time when iterations == 0
    int verify_connections = 16;        ///< connections for setup and verification calls
    /// Order through the cart: put the line in the user's cart, then check out (each connection
    /// has users of its own, so no cart is shared between connections).
    bool cart = false;
};

/// `ranking`: order/pay writers and ranking readers, a freshness probe, exactness at the end.
struct RankingOptions {
    int products = 50;             ///< products in the ranked category (at most 100)
    int users = 200;               ///< users who buy
    int writers = 16;              ///< connections that order and pay; the others read rankings
    double duration_s = 10;        ///< load time
    int probe_interval_ms = 200;   ///< how often the probe pays
    double settle_timeout_s = 15;  ///< how long the published rankings may take to match
    int verify_connections = 16;   ///< connections for the setup
};

/// `waiting-room`: N users join at once, poll with back-off, are admitted, order and pay.
struct WaitingRoomOptions {
    int users = 2000;                     ///< users created, each joins once (10 s at 200/s)
    std::int64_t admit_per_second = 200;  ///< set through PATCH /api/v1/admin/queue
    int max_wait_s = 600;                 ///< a user polls at most this long
    int setup_connections = 16;           ///< connections for the setup
};

/// `get`: a wrk-like GET of one path for a fixed time.
struct GetOptions {
    std::string path = "/healthz";  ///< request target (appended to the URL's path prefix)
    double duration_s = 10;         ///< run time
    std::uint64_t requests = 0;     ///< stop after this many instead (0 = use duration)
};

/// Runs `coupon-drop`.
boost::asio::awaitable<int> RunCouponDrop(Env& env, CouponDropOptions options);
/// Runs `shop`.
boost::asio::awaitable<int> RunShop(Env& env, ShopOptions options);
/// Runs `ranking`.
boost::asio::awaitable<int> RunRanking(Env& env, RankingOptions options);
/// Runs `waiting-room`.
boost::asio::awaitable<int> RunWaitingRoom(Env& env, WaitingRoomOptions options);
/// Runs `get`.
boost::asio::awaitable<int> RunGet(Env& env, GetOptions options);

}  // namespace joopang::bench
