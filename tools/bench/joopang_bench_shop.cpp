// Scenario `shop`: browse -> order -> pay, measured per step and verified afterwards.
//
// Setup creates P products (one item each, stock K) and N users (with a balance) through the API.
// Each iteration picks a random product and user: GET the product, POST an order for 1..Q units
// (with --cart: PUT the line in the user's cart, then POST the checkout), POST its payment.
// Verification reads back every order, product and user: no stock is negative, stock taken == units
// of live (PENDING/PAID) orders, PAID orders == successful payments, and each wallet == initial
// balance - what it paid.
#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>
#include <cinttypes>
#include <cstdio>
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

constexpr std::size_t kBrowse = 0, kOrder = 1, kPay = 2, kIteration = 3, kCart = 4;

/// An order the load phase placed.
struct PlacedOrder {
    std::int64_t id = 0;
    std::size_t user = 0;     ///< index into the users
    std::size_t product = 0;  ///< index into the products
    std::int64_t quantity = 0;
    std::int64_t payable_cents = 0;
    bool paid = false;            ///< the payment answered 200
    std::int64_t paid_cents = 0;  ///< paidAmount of that answer
};

/// What one worker saw during the load.
struct ShopWorkerData {
    std::vector<PlacedOrder> orders;
    std::uint64_t out_of_stock = 0;   ///< 409 OUT_OF_STOCK on order
    std::uint64_t insufficient = 0;   ///< 402 INSUFFICIENT_BALANCE on payment
    std::uint64_t negative_seen = 0;  ///< browse answers showing a negative stock
    std::uint64_t order_unknown = 0;  ///< order requests without an answer (maybe applied)
    std::uint64_t pay_unknown = 0;    ///< payment requests without an answer
    std::map<std::string, std::uint64_t> unexpected;  ///< "step: outcome" -> count
};

std::string Join(const std::map<std::string, std::uint64_t>& m) {
    std::string out;
    for (const auto& [k, n] : m) out += (out.empty() ? "" : ", ") + k + " x" + std::to_string(n);
    return out;
}

}  // namespace

awaitable<int> RunShop(Env& env, ShopOptions o) {
    if (!HasAdminToken(env, "shop")) co_return kExitSetupFailed;
    auto price_cents = ParseCents(json::value(o.price));
    auto balance_cents = ParseCents(json::value(o.balance));
    if (!price_cents || !balance_cents) {
        std::fprintf(stderr, "--price and --balance must be amounts like 1000.00\n");
        co_return kExitSetupFailed;
    }
    const std::string run = RunTag();
    auto setup_start = Clock::now();

    // Setup: products and users, in parallel over verify_connections connections.
    auto created =
        co_await CreateProducts(env, o.products, o.price, o.stock, 0, run, o.verify_connections);
    if (!created) co_return kExitSetupFailed;
    auto signed_in = co_await CreateUsers(env, o.users, o.balance, run, o.verify_connections);
    if (!signed_in) co_return kExitSetupFailed;
    const std::vector<BenchProduct> products = std::move(*created);
    const std::vector<std::int64_t> users = signed_in->ids;
    const std::vector<std::string> tokens = signed_in->tokens;
    const double setup_s = SecondsSince(setup_start);
    std::fprintf(stderr,
                 "setup: %d products (stock %" PRId64 " each), %d users (balance %s) in %.2f s\n",
                 o.products, o.stock, o.users, o.balance.c_str(), setup_s);

    // Load: browse -> order -> pay.
    std::vector<ShopWorkerData> data(static_cast<std::size_t>(env.opt.connections));
    LoadSpec spec;
    spec.phase = "shop";
    spec.steps = {"browse", o.cart ? "checkout" : "order", "pay", "iteration", "cart"};
    if (o.cart && o.users < env.opt.connections) {
        std::fprintf(stderr, "--cart needs --users >= -c (each connection has users of its own)\n");
        co_return kExitSetupFailed;
    }
    spec.iterations = o.iterations;
    spec.duration_s = o.iterations ? 0 : o.duration_s;
    spec.connections = env.opt.connections;
    spec.rate = env.opt.rate;
    if (!spec.iterations && spec.duration_s <= 0) spec.duration_s = 10;

    auto iteration = [&](Worker& w, std::uint64_t) -> awaitable<void> {
        auto& d = data[static_cast<std::size_t>(w.index)];
        auto t0 = w.due.value_or(Clock::now());
        std::size_t pi = std::uniform_int_distribution<std::size_t>(0, products.size() - 1)(w.rng);
        std::size_t ui = std::uniform_int_distribution<std::size_t>(0, users.size() - 1)(w.rng);
        if (o.cart) {  // a user of this connection's own: users w, w + c, w + 2c, …
            const auto c = static_cast<std::size_t>(env.opt.connections);
            const auto own = (users.size() - static_cast<std::size_t>(w.index) + c - 1) / c;
            ui = static_cast<std::size_t>(w.index) +
                 c * std::uniform_int_distribution<std::size_t>(0, own - 1)(w.rng);
        }
        std::int64_t qty = std::uniform_int_distribution<std::int64_t>(1, o.max_quantity)(w.rng);
        auto finish = [&] {
            w.rec().RecordLatency(
                kIteration,
                std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
        };
        std::string outcome;
        auto r = co_await w.Send(kBrowse, bhttp::verb::get,
                                 "/api/v1/products/" + std::to_string(products[pi].id), {}, {},
                                 &outcome);
        if (r.status == 0) co_return finish();  // counted as a transport error
        if (r.status != 200) {
            ++d.unexpected["browse: " + outcome];
            co_return finish();
        }
        if (auto v = ParseJson(r.body); v && v->is_object()) {
            if (const auto* items = v->get_object().if_contains("items");
                items && items->is_array()) {
                for (const auto& it : items->get_array())
                    if (JsonInt(it, "stock").value_or(0) < 0) ++d.negative_seen;
            }
        }

        if (o.cart) {
            const std::string cart = "/api/v1/users/" + std::to_string(users[ui]) + "/cart";
            json::object line{{"productItemId", products[pi].item_id}, {"quantity", qty}};
            r = co_await w.Send(kCart, bhttp::verb::put, cart + "/items", json::serialize(line),
                                tokens[ui], &outcome);
            if (r.status != 200) {
                if (r.status != 0) ++d.unexpected["cart: " + outcome];
                co_return finish();
            }
            json::object cb{{"recipientName", "Bench User"}};
            r = co_await w.Send(kOrder, bhttp::verb::post, cart + "/checkout", json::serialize(cb),
                                tokens[ui], &outcome);
            // Out of stock leaves the line in the cart: emptied so the next checkout is alone.
            if (r.status == 409) {
                json::object remove{{"productItemId", products[pi].item_id}, {"quantity", 0}};
                const std::string body = json::serialize(remove);
                co_await w.Send(kCart, bhttp::verb::put, cart + "/items", body, tokens[ui]);
            }
        } else {
            json::object ob{
                {"userId", users[ui]},
                {"recipientName", "Bench User"},
                {"items", json::array{json::object{{"productItemId", products[pi].item_id},
                                                   {"quantity", qty}}}}};
            r = co_await w.Send(kOrder, bhttp::verb::post, "/api/v1/orders", json::serialize(ob),
                                tokens[ui], &outcome);
        }
        if (r.status == 0) {
            ++d.order_unknown;
            co_return finish();
        }
        if (r.status != 201) {
            if (outcome == "409 OUT_OF_STOCK")
                ++d.out_of_stock;
            else
                ++d.unexpected["order: " + outcome];
            co_return finish();
        }
        auto v = ParseJson(r.body);
        PlacedOrder po;
        po.user = ui;
        po.product = pi;
        po.quantity = qty;
        if (v) {
            po.id = JsonInt(*v, "orderId").value_or(0);
            if (v->is_object())
                if (const auto* p = v->get_object().if_contains("payableAmount"))
                    po.payable_cents = ParseCents(*p).value_or(-1);
        }
        if (po.id == 0) {
            ++d.unexpected["order: 201 without orderId"];
            co_return finish();
        }

        json::object pb{{"userId", users[ui]}};
        r = co_await w.Send(kPay, bhttp::verb::post,
                            "/api/v1/orders/" + std::to_string(po.id) + "/payment",
                            json::serialize(pb), tokens[ui], &outcome);
        if (r.status == 200) {
            po.paid = true;
            if (auto pv = ParseJson(r.body); pv && pv->is_object()) {
                if (const auto* p = pv->get_object().if_contains("paidAmount"))
                    po.paid_cents = ParseCents(*p).value_or(-1);
                if (JsonString(*pv, "status") != "PAID") ++d.unexpected["pay: 200 without PAID"];
            }
        } else if (r.status == 0) {
            ++d.pay_unknown;
        } else if (outcome == "402 INSUFFICIENT_BALANCE") {
            ++d.insufficient;
        } else {
            ++d.unexpected["pay: " + outcome];
        }
        d.orders.push_back(po);
        finish();
    };

    Report report;
    report.scenario = "shop";
    report.open_loop = env.opt.rate > 0;
    report.config = {{"products", o.products},     {"stock", o.stock},
                     {"price", o.price},           {"users", o.users},
                     {"balance", o.balance},       {"maxQuantity", o.max_quantity},
                     {"iterations", o.iterations}, {"durationSec", spec.duration_s}};
    report.load = co_await RunLoad(env, spec, iteration);
    report.AddFigure("setupSec", setup_s, "s", "setup (products and users)");

    std::vector<PlacedOrder> orders;
    std::uint64_t out_of_stock = 0, insufficient = 0, negative_seen = 0, order_unknown = 0,
                  pay_unknown = 0;
    std::map<std::string, std::uint64_t> unexpected;
    for (auto& d : data) {
        orders.insert(orders.end(), d.orders.begin(), d.orders.end());
        out_of_stock += d.out_of_stock;
        insufficient += d.insufficient;
        negative_seen += d.negative_seen;
        order_unknown += d.order_unknown;
        pay_unknown += d.pay_unknown;
        for (const auto& [k, n] : d.unexpected) unexpected[k] += n;
    }
    std::uint64_t paid = 0;
    for (const auto& po : orders) paid += po.paid ? 1 : 0;
    const double secs = report.load.elapsed_s();
    report.AddFigure("ordersPlaced", static_cast<double>(orders.size()), "", "orders placed", 0);
    report.AddFigure("paymentsSucceeded", static_cast<double>(paid), "", "payments succeeded", 0);
    report.AddFigure("paidOrdersPerSec", secs > 0 ? static_cast<double>(paid) / secs : 0, "/s",
                     "paid orders per second", 0);
    report.AddFigure("outOfStock", static_cast<double>(out_of_stock), "",
                     "orders refused 409 OUT_OF_STOCK", 0);
    report.AddFigure("insufficientBalance", static_cast<double>(insufficient), "",
                     "payments refused 402 INSUFFICIENT_BALANCE", 0);

    const std::uint64_t errors = report.load.total.requests == 0
                                     ? 0
                                     : report.load.total.steps[kBrowse].errors +
                                           report.load.total.steps[kOrder].errors +
                                           report.load.total.steps[kPay].errors;
    report.AddCheck("no transport errors", errors == 0,
                    std::to_string(errors) + " (" + std::to_string(order_unknown) + " orders and " +
                        std::to_string(pay_unknown) + " payments with unknown outcome)");
    report.AddCheck("no unexpected answers", unexpected.empty(),
                    unexpected.empty() ? "only 2xx, 409 OUT_OF_STOCK, 402 INSUFFICIENT_BALANCE"
                                       : Join(unexpected));
    report.AddCheck("no negative stock seen while browsing", negative_seen == 0,
                    std::to_string(negative_seen));

    // Verification: read back orders, then products and users.
    std::vector<std::string> order_status(orders.size());
    std::vector<std::int64_t> order_payable(orders.size(), -1);
    std::vector<std::int64_t> product_stock(products.size(), INT64_MIN);
    std::vector<std::int64_t> user_balance(users.size(), INT64_MIN);
    auto verify_start = Clock::now();
    {
        LoadSpec vs;
        vs.phase = "verify orders";
        vs.steps = {"get order"};
        vs.iterations = orders.size();
        vs.connections = o.verify_connections;
        co_await RunLoad(env, vs, [&](Worker& w, std::uint64_t i) -> awaitable<void> {
            auto r = co_await w.Send(0, bhttp::verb::get,
                                     "/api/v1/orders/" + std::to_string(orders[i].id), {},
                                     env.opt.admin_token);
            if (r.status != 200) co_return;
            if (auto v = ParseJson(r.body)) {
                order_status[i] = JsonString(*v, "status").value_or("?");
                if (v->is_object())
                    if (const auto* p = v->get_object().if_contains("payableAmount"))
                        order_payable[i] = ParseCents(*p).value_or(-1);
            }
        });
        vs.phase = "verify products";
        vs.steps = {"get product"};
        vs.iterations = products.size();
        co_await RunLoad(env, vs, [&](Worker& w, std::uint64_t i) -> awaitable<void> {
            auto r = co_await w.Send(0, bhttp::verb::get,
                                     "/api/v1/products/" + std::to_string(products[i].id));
            if (r.status != 200) co_return;
            auto v = ParseJson(r.body);
            if (!v || !v->is_object()) co_return;
            const auto* items = v->get_object().if_contains("items");
            if (!items || !items->is_array()) co_return;
            for (const auto& it : items->get_array())
                if (JsonInt(it, "id") == products[i].item_id)
                    product_stock[i] = JsonInt(it, "stock").value_or(INT64_MIN);
        });
        vs.phase = "verify users";
        vs.steps = {"get user"};
        vs.iterations = users.size();
        co_await RunLoad(env, vs, [&](Worker& w, std::uint64_t i) -> awaitable<void> {
            auto r =
                co_await w.Send(0, bhttp::verb::get, "/api/v1/users/" + std::to_string(users[i]),
                                {}, env.opt.admin_token);
            if (r.status != 200) co_return;
            if (auto v = ParseJson(r.body); v && v->is_object())
                if (const auto* b = v->get_object().if_contains("balance"))
                    user_balance[i] = ParseCents(*b).value_or(INT64_MIN);
        });
    }
    report.AddFigure("verifySec", SecondsSince(verify_start), "s", "verification reads");

    // Orders: PAID exactly for the successful payments; the rest PENDING (or expired).
    std::uint64_t unreadable = 0, paid_seen = 0, paid_mismatch = 0, not_pending = 0, released = 0,
                  amount_mismatch = 0;
    std::vector<std::int64_t> taken(products.size(), 0), spent(users.size(), 0);
    for (std::size_t i = 0; i < orders.size(); ++i) {
        const auto& po = orders[i];
        const auto& st = order_status[i];
        if (st.empty()) {
            ++unreadable;
            continue;
        }
        if (st == "PAID") ++paid_seen;
        if ((st == "PAID") != po.paid) ++paid_mismatch;
        if (!po.paid && st != "PENDING") {
            ++not_pending;
            if (st == "EXPIRED" || st == "CANCELED") ++released;
        }
        if (order_payable[i] != po.payable_cents || (po.paid && po.paid_cents != po.payable_cents))
            ++amount_mismatch;
        if (st == "PAID" || st == "PENDING") taken[po.product] += po.quantity;
        if (po.paid) spent[po.user] += po.paid_cents;
    }
    report.AddCheck(
        "every placed order readable", unreadable == 0,
        std::to_string(orders.size() - unreadable) + " of " + std::to_string(orders.size()));
    report.AddCheck("paid orders == successful payments", paid_seen == paid && paid_mismatch == 0,
                    std::to_string(paid_seen) + " PAID, " + std::to_string(paid) +
                        " payments answered 200, " + std::to_string(paid_mismatch) +
                        " orders whose status disagrees");
    report.AddCheck("unpaid orders still PENDING", not_pending == 0,
                    std::to_string(not_pending) + " not PENDING (" + std::to_string(released) +
                        " expired/canceled)");
    report.AddCheck("amounts consistent (order payableAmount == paidAmount)", amount_mismatch == 0,
                    std::to_string(amount_mismatch) + " mismatches");

    // Products: never negative, and the stock taken equals the units of live orders.
    std::uint64_t negative = 0, stock_mismatch = 0, stock_unreadable = 0;
    std::string stock_example;
    for (std::size_t i = 0; i < products.size(); ++i) {
        if (product_stock[i] == INT64_MIN) {
            ++stock_unreadable;
            continue;
        }
        if (product_stock[i] < 0) ++negative;
        std::int64_t expected = o.stock - taken[i];
        if (product_stock[i] != expected) {
            if (stock_example.empty())
                stock_example = "; e.g. product " + std::to_string(products[i].id) + ": stock " +
                                std::to_string(product_stock[i]) + ", expected " +
                                std::to_string(expected);
            ++stock_mismatch;
        }
    }
    report.AddCheck("no stock negative", negative == 0 && stock_unreadable == 0,
                    std::to_string(negative) + " negative, " + std::to_string(stock_unreadable) +
                        " unreadable");
    report.AddCheck("stock taken == units in PENDING/PAID orders (no oversell, no lost update)",
                    stock_mismatch == 0,
                    std::to_string(stock_mismatch) + " of " + std::to_string(products.size()) +
                        " products differ" + stock_example);

    // Users: balance == initial - paid.
    std::uint64_t balance_mismatch = 0;
    std::string balance_example;
    for (std::size_t i = 0; i < users.size(); ++i) {
        std::int64_t expected = *balance_cents - spent[i];
        if (user_balance[i] != expected) {
            if (balance_example.empty())
                balance_example = "; e.g. user " + std::to_string(users[i]) + ": " +
                                  (user_balance[i] == INT64_MIN ? std::string("unreadable")
                                                                : FormatCents(user_balance[i])) +
                                  ", expected " + FormatCents(expected);
            ++balance_mismatch;
        }
    }
    report.AddCheck("wallets == initial balance - payments", balance_mismatch == 0,
                    std::to_string(balance_mismatch) + " of " + std::to_string(users.size()) +
                        " users differ" + balance_example);
    if (released)
        report.notes.push_back(
            "some unpaid orders expired during the run (--order-ttl); their "
            "stock was expected back");
    co_return FinishReport(report, env.opt);
}

}  // namespace joopang::bench
