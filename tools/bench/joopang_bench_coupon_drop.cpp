// Scenario `coupon-drop`: a first-come-first-served coupon drop, measured and verified.
//
// 1. create a template (AMOUNT 1000.00, totalQuantity S, perUserLimit 1) through the admin API;
// 2. fire R issue requests from C connections with user ids uniform in 1..U;
// 3. verify: min(S, distinct users) winners, no user twice, positions exactly 1..winners, every
//    other answer 409 COUPON_ALREADY_ISSUED (only for winners) or 410 COUPON_SOLD_OUT;
// 4. poll the template until issuedQuantity == winners and report the drain time and rates;
// 5. check the reconciliation report for the template when the endpoint exists.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <random>
#include <unordered_set>

#include "joopang_bench_report.hpp"
#include "joopang_bench_scenarios.hpp"
#include "joopang_bench_tokens.hpp"

namespace joopang::bench {
namespace asio = boost::asio;
namespace json = boost::json;
namespace bhttp = boost::beast::http;
using asio::awaitable;

namespace {

constexpr std::size_t kIssue = 0, kWon = 1, kLost = 2;

/// What one worker saw during the drop.
struct DropWorkerData {
    std::vector<std::pair<std::int64_t, std::int64_t>> winners;  ///< (userId, position) per 202
    std::vector<std::int64_t> request_ids;                       ///< requestId per 202
    std::vector<std::uint64_t> answered_users;        ///< users whose request got an HTTP answer
    std::vector<std::uint64_t> already_users;         ///< users answered 409 COUPON_ALREADY_ISSUED
    std::uint64_t sold_out = 0;                       ///< 410 COUPON_SOLD_OUT answers
    std::uint64_t bad_202 = 0;                        ///< 202 with a malformed or mismatching body
    std::string bad_202_example;                      ///< one such body
    std::map<std::string, std::uint64_t> unexpected;  ///< any other answer
    Clock::time_point last_response{};                ///< last answer of any kind
    Clock::time_point last_win{};                     ///< last 202
};

/// Live counts of a template.
struct TemplateCounts {
    std::int64_t total = -1, reserved = -1, issued = -1, remaining = -1;
    std::string status;
};

std::optional<TemplateCounts> ParseTemplate(const HttpResult& r) {
    if (r.status != 200) return std::nullopt;
    auto v = ParseJson(r.body);
    if (!v) return std::nullopt;
    TemplateCounts c;
    c.total = JsonInt(*v, "totalQuantity").value_or(-1);
    c.reserved = JsonInt(*v, "reservedQuantity").value_or(-1);
    c.issued = JsonInt(*v, "issuedQuantity").value_or(-1);
    c.remaining = JsonInt(*v, "remainingQuantity").value_or(-1);
    c.status = JsonString(*v, "status").value_or("");
    return c;
}

std::string Describe(const HttpResult& r) {
    if (r.status == 0) return r.ErrorText();
    std::string body = r.body.size() > 300 ? r.body.substr(0, 300) + "..." : r.body;
    return "HTTP " + std::to_string(r.status) + " " + body;
}

/// The reconciliation entry of `template_id` in a report, if present.
std::optional<json::value> FindReconEntry(const json::value& report, std::int64_t template_id) {
    if (!report.is_object()) return std::nullopt;
    const auto* t = report.get_object().if_contains("templates");
    if (!t || !t->is_array()) return std::nullopt;
    for (const auto& e : t->get_array())
        if (JsonInt(e, "templateId") == template_id) return e;
    return std::nullopt;
}

/// Polls the template every interval on its own connection from the start of the drop until
/// stopped: keeps the samples and the first time issuedQuantity reached `target` (S during the
/// load, the number of winners after it). Runs on env.control, like its readers.
struct PersistWatcher {
    PersistWatcher(Env& env,
                   std::string path,
                   std::chrono::milliseconds interval,
                   std::int64_t target)
        : path(std::move(path)),
          interval(interval),
          target(target),
          conn(env.control, env.target, std::chrono::milliseconds(env.opt.timeout_ms)),
          timer(env.control),
          done(env.control, 1) {}

    awaitable<void> Run(Clock::time_point start) {
        while (!stop) {
            auto r = co_await conn.Request(bhttp::verb::get, path);
            auto t = Clock::now();
            if (auto c = ParseTemplate(r)) {
                last = c;
                max_issued = std::max(max_issued, c->issued);
                if (!full_t && c->issued >= target) full_t = t;
                series.push_back(json::object{{"t", std::round(SecondsSince(start, t) * 1e3) / 1e3},
                                              {"reserved", c->reserved},
                                              {"issued", c->issued}});
            }
            if (stop) break;
            timer.expires_after(interval);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }
    void Stop() {
        stop = true;
        timer.cancel();
    }

    std::string path;
    std::chrono::milliseconds interval;
    std::int64_t target;
    HttpConnection conn;
    asio::steady_timer timer;
    WaitGroup done;
    bool stop = false;
    std::optional<TemplateCounts> last;
    std::optional<Clock::time_point> full_t;
    std::int64_t max_issued = 0;
    std::vector<json::value> series;  ///< {t, reserved, issued}, t in s from the start
};

}  // namespace

awaitable<int> RunCouponDrop(Env& env, CouponDropOptions o) {
    const std::uint64_t S = o.coupons;
    if (env.opt.admin_token.empty()) {
        std::fprintf(stderr,
                     "coupon-drop needs the admin token: --admin-token, $JOOPANG_ADMIN_TOKEN or "
                     "--data-dir with an admin-token file\n");
        co_return kExitSetupFailed;
    }
    if (env.opt.auth_secret.empty()) {
        std::fprintf(stderr,
                     "coupon-drop signs its users in with the service's token secret: "
                     "--auth-secret, $JOOPANG_AUTH_SECRET or --data-dir with an auth-secret "
                     "file\n");
        co_return kExitSetupFailed;
    }
    std::unique_ptr<BenchTokens> tokens;
    try {
        tokens = std::make_unique<BenchTokens>(env.opt.auth_secret);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "coupon-drop: %s\n", e.what());
        co_return kExitSetupFailed;
    }

    // 1. The template.
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    json::object create{{"title", "joopang-bench coupon-drop " + std::to_string(now_ms)},
                        {"type", "AMOUNT"},
                        {"value", "1000.00"},
                        {"totalQuantity", S},
                        {"perUserLimit", 1}};
    auto created = co_await env.Call(bhttp::verb::post, "/api/v1/coupon-templates",
                                     json::serialize(create), true);
    std::optional<std::int64_t> id;
    if (created.status == 201)
        if (auto v = ParseJson(created.body)) id = JsonInt(*v, "id");
    if (!id) {
        std::fprintf(stderr, "creating the coupon template failed: %s\n",
                     Describe(created).c_str());
        if (created.status == 404)
            std::fprintf(stderr, "(does this server have the coupon endpoints yet?)\n");
        co_return kExitSetupFailed;
    }
    const std::string tpath = "/api/v1/coupon-templates/" + std::to_string(*id);
    const std::string issue_path = tpath + "/issue";
    auto before = ParseTemplate(co_await env.Call(bhttp::verb::get, tpath));
    std::fprintf(stderr,
                 "template %" PRId64 " created: %" PRIu64 " coupons; %" PRIu64
                 " issue requests from users 1..%" PRIu64 " over %d connections\n",
                 *id, S, o.requests, o.users, env.opt.connections);
    if (before && before->status != "ACTIVE")
        std::fprintf(stderr, "warning: template status is %s, not ACTIVE\n",
                     before->status.c_str());

    // 2. The drop.
    std::vector<DropWorkerData> data(static_cast<std::size_t>(env.opt.connections));
    LoadSpec spec;
    spec.phase = "issue";
    spec.steps = {"issue", "issue won (202)", "issue lost (409/410)"};
    spec.iterations = o.requests;
    spec.connections = env.opt.connections;
    spec.rate = env.opt.rate;
    const std::int64_t template_id = *id;

    auto iteration = [&](Worker& w, std::uint64_t) -> awaitable<void> {
        auto& d = data[static_cast<std::size_t>(w.index)];
        std::uint64_t user = std::uniform_int_distribution<std::uint64_t>(1, o.users)(w.rng);
        // Each caller is signed in as its user (the body names it too, as a client may).
        std::string token = tokens->For(user);
        std::string body = "{\"userId\":" + std::to_string(user) + "}";
        std::string outcome;
        auto r = co_await w.Send(kIssue, bhttp::verb::post, issue_path, body, token, &outcome);
        if (r.status == 0) co_return;
        auto now = Clock::now();
        d.last_response = now;
        d.answered_users.push_back(user);
        if (r.status == 202) {
            w.rec().RecordLatency(kWon, r.latency_ns);
            d.last_win = now;
            auto v = ParseJson(r.body);
            auto pos = v ? JsonInt(*v, "position") : std::nullopt;
            auto uid = v ? JsonInt(*v, "userId") : std::nullopt;
            auto tid = v ? JsonInt(*v, "templateId") : std::nullopt;
            auto rid = v ? JsonInt(*v, "requestId") : std::nullopt;
            auto st = v ? JsonString(*v, "status") : std::nullopt;
            bool good = pos && uid && *uid == static_cast<std::int64_t>(user) && tid &&
                        *tid == template_id && rid && st == "RESERVED";
            if (!good) {
                ++d.bad_202;
                if (d.bad_202_example.empty()) d.bad_202_example = r.body.substr(0, 300);
            }
            if (pos) d.winners.emplace_back(static_cast<std::int64_t>(user), *pos);
            if (rid) d.request_ids.push_back(*rid);
        } else {
            w.rec().RecordLatency(kLost, r.latency_ns);
            if (outcome == "409 COUPON_ALREADY_ISSUED")
                d.already_users.push_back(user);
            else if (outcome == "410 COUPON_SOLD_OUT")
                ++d.sold_out;
            else
                ++d.unexpected[outcome];
        }
    };
    PersistWatcher watcher(env, tpath, std::chrono::milliseconds(o.poll_interval_ms),
                           static_cast<std::int64_t>(S));
    auto progress = [&](double) -> awaitable<std::string> {
        if (!watcher.last) co_return std::string();
        co_return "reserved " + std::to_string(watcher.last->reserved) + "  persisted " +
            std::to_string(watcher.last->issued) + " / " + std::to_string(S);
    };

    Report report;
    report.scenario = "coupon-drop";
    report.open_loop = env.opt.rate > 0;
    report.config = {{"templateId", template_id},
                     {"users", o.users},
                     {"coupons", S},
                     {"requests", o.requests},
                     {"drainTimeoutSec", o.drain_timeout_s},
                     {"pollIntervalMs", o.poll_interval_ms}};
    const auto watch_start = Clock::now();
    asio::co_spawn(env.control, watcher.Run(watch_start),
                   [&watcher](std::exception_ptr) { watcher.done.Done(); });
    report.load = co_await RunLoad(env, spec, iteration, progress);
    const auto start = report.load.start;

    // Merge what the workers saw.
    std::vector<std::pair<std::int64_t, std::int64_t>> winners;
    std::vector<std::int64_t> request_ids;
    std::vector<std::uint64_t> answered, already;
    std::uint64_t sold_out = 0, bad_202 = 0;
    std::string bad_example;
    std::map<std::string, std::uint64_t> unexpected;
    Clock::time_point last_response = start, last_win = start;
    for (auto& d : data) {
        winners.insert(winners.end(), d.winners.begin(), d.winners.end());
        request_ids.insert(request_ids.end(), d.request_ids.begin(), d.request_ids.end());
        answered.insert(answered.end(), d.answered_users.begin(), d.answered_users.end());
        already.insert(already.end(), d.already_users.begin(), d.already_users.end());
        sold_out += d.sold_out;
        bad_202 += d.bad_202;
        if (bad_example.empty()) bad_example = d.bad_202_example;
        for (const auto& [k, n] : d.unexpected) unexpected[k] += n;
        last_response = std::max(last_response, d.last_response);
        last_win = std::max(last_win, d.last_win);
    }
    std::sort(answered.begin(), answered.end());
    answered.erase(std::unique(answered.begin(), answered.end()), answered.end());
    const std::uint64_t distinct_users = answered.size();
    const std::uint64_t expected = std::min<std::uint64_t>(S, distinct_users);
    const std::uint64_t errors = report.load.total.steps[kIssue].errors;

    // 3. Verification of the answers.
    report.AddCheck("no transport errors", errors == 0,
                    errors == 0 ? "0"
                                : std::to_string(errors) +
                                      " requests without an answer: exact verification is not "
                                      "possible (they may have been applied)");
    report.AddCheck("winners == min(S, distinct users)", winners.size() == expected,
                    std::to_string(winners.size()) + " x 202, expected " +
                        std::to_string(expected) + " (S " + std::to_string(S) + ", " +
                        std::to_string(distinct_users) + " distinct users answered)");
    std::unordered_set<std::int64_t> winner_users;
    std::uint64_t dup_users = 0;
    for (const auto& [u, p] : winners)
        if (!winner_users.insert(u).second) ++dup_users;
    report.AddCheck("no user won twice", dup_users == 0,
                    std::to_string(dup_users) + " duplicate winners");
    std::vector<std::int64_t> positions;
    positions.reserve(winners.size());
    for (const auto& [u, p] : winners) positions.push_back(p);
    std::sort(positions.begin(), positions.end());
    std::uint64_t pos_bad = 0;
    std::string pos_detail;
    for (std::size_t i = 0; i < positions.size(); ++i) {
        if (positions[i] != static_cast<std::int64_t>(i + 1)) {
            if (pos_bad == 0)
                pos_detail = "first mismatch: sorted[" + std::to_string(i) +
                             "] = " + std::to_string(positions[i]);
            ++pos_bad;
        }
    }
    report.AddCheck(
        "positions are exactly 1..winners", pos_bad == 0 && !positions.empty(),
        pos_bad == 0 ? (positions.empty() ? "no winners" : "1.." + std::to_string(positions.size()))
                     : std::to_string(pos_bad) + " out of place; " + pos_detail);
    std::sort(request_ids.begin(), request_ids.end());
    bool rid_unique =
        std::adjacent_find(request_ids.begin(), request_ids.end()) == request_ids.end();
    report.AddCheck("202 bodies well-formed (userId, templateId, requestId, RESERVED)",
                    bad_202 == 0 && rid_unique,
                    std::to_string(bad_202) + " malformed" +
                        (rid_unique ? "" : ", duplicate requestIds") +
                        (bad_example.empty() ? "" : "; e.g. " + bad_example));
    std::string unexpected_text;
    std::uint64_t unexpected_n = 0;
    for (const auto& [k, n] : unexpected) {
        unexpected_text += (unexpected_text.empty() ? "" : ", ") + k + " x" + std::to_string(n);
        unexpected_n += n;
    }
    report.AddCheck(
        "every other answer is 409 COUPON_ALREADY_ISSUED or 410 COUPON_SOLD_OUT", unexpected_n == 0,
        std::to_string(already.size()) + " x 409, " + std::to_string(sold_out) + " x 410" +
            (unexpected_n ? "; unexpected: " + unexpected_text : std::string()));
    std::uint64_t already_not_winner = 0;
    for (auto u : already)
        if (!winner_users.count(static_cast<std::int64_t>(u))) ++already_not_winner;
    report.AddCheck("409 COUPON_ALREADY_ISSUED only for users who won", already_not_winner == 0,
                    std::to_string(already_not_winner) + " non-winners got 409");
    report.AddCheck("410 COUPON_SOLD_OUT only once all S are won",
                    sold_out == 0 || winners.size() == S,
                    std::to_string(sold_out) + " x 410 with " + std::to_string(winners.size()) +
                        " of " + std::to_string(S) + " won");

    // 4. Template counts and persistence.
    const double sellout_s = SecondsSince(start, last_win);
    report.AddFigure("issueThroughputRps",
                     report.load.elapsed_s() > 0
                         ? static_cast<double>(report.load.total.requests) / report.load.elapsed_s()
                         : 0,
                     "req/s", "issue throughput", 0);
    report.AddFigure("selloutSec", sellout_s, "s", "first request -> last 202");
    report.AddFigure("winnersPerSec",
                     sellout_s > 0 ? static_cast<double>(winners.size()) / sellout_s : 0, "/s",
                     "winners per second until the last 202", 0);
    const std::int64_t target_rows = static_cast<std::int64_t>(winners.size());
    watcher.target = target_rows;
    auto after_r = co_await env.Call(bhttp::verb::get, tpath);
    auto after = ParseTemplate(after_r);
    if (!after) {
        report.AddCheck("template readable after the drop", false, Describe(after_r));
    } else {
        report.AddCheck(
            "template counts: reservedQuantity == winners, remainingQuantity == S - winners",
            after->reserved == target_rows &&
                after->remaining == static_cast<std::int64_t>(S) - target_rows,
            "reserved " + std::to_string(after->reserved) + ", remaining " +
                std::to_string(after->remaining) + ", issued " + std::to_string(after->issued) +
                ", total " + std::to_string(after->total));
        report.AddFigure("persistedAtEndOfLoad", static_cast<double>(after->issued), "rows",
                         "persisted when the load ended", 0);
    }
    if (o.skip_drain) {
        report.notes.push_back("--skip-drain: persistence was not checked");
    } else {
        // Wait for the watcher to see issuedQuantity == winners.
        asio::steady_timer tick(env.control);
        auto deadline = last_response + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(o.drain_timeout_s));
        if (!watcher.full_t && after && after->issued >= target_rows) watcher.full_t = Clock::now();
        while (!watcher.full_t && Clock::now() < deadline) {
            tick.expires_after(std::chrono::seconds(1));
            co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
            if (!env.opt.quiet && watcher.last && !watcher.full_t)
                std::fprintf(stderr, "[drain %5.1fs] persisted %" PRId64 " / %" PRId64 "\n",
                             SecondsSince(last_response), watcher.last->issued, target_rows);
        }
        const bool full = watcher.full_t.has_value();
        const std::int64_t issued = watcher.last ? watcher.last->issued : -1;
        report.AddCheck("all winners persisted (issuedQuantity == winners)", full,
                        full ? std::to_string(target_rows) + " rows"
                             : "only " + std::to_string(issued) + " of " +
                                   std::to_string(target_rows) + " after " +
                                   std::to_string(o.drain_timeout_s) + " s");
        if (full) {
            const auto full_t = *watcher.full_t;
            double drain_s = std::max(0.0, SecondsSince(last_response, full_t));
            double e2e_s = SecondsSince(start, full_t);
            std::int64_t tail_rows = after ? target_rows - after->issued : target_rows;
            report.AddFigure("drainSec", drain_s, "s",
                             "drain time (last issue answer -> all persisted)");
            if (drain_s > 0 && tail_rows > 0)
                report.AddFigure("drainRowsPerSec", static_cast<double>(tail_rows) / drain_s,
                                 "rows/s", "drain rate (rows left at the end / drain time)", 0);
            else
                report.notes.push_back(
                    "every winner was persisted before the load ended: "
                    "drain time 0, no drain rate");
            report.AddFigure("persistAfterLastWinSec",
                             std::max(0.0, SecondsSince(last_win, full_t)), "s",
                             "last 202 -> all persisted");
            report.AddFigure("persistEndToEndSec", e2e_s, "s", "first request -> all persisted");
            report.AddFigure("persistEndToEndRowsPerSec",
                             e2e_s > 0 ? static_cast<double>(target_rows) / e2e_s : 0, "rows/s",
                             "persist rate from the first request", 0);
            report.notes.push_back("persistence times have the resolution of the template poll (" +
                                   std::to_string(o.poll_interval_ms) + " ms + one GET)");
        }
        // Keep watching a little to catch rows beyond the winners.
        tick.expires_after(std::chrono::milliseconds(2 * o.poll_interval_ms));
        co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    watcher.Stop();
    co_await watcher.done.Wait();
    report.AddCheck("never more rows than winners", watcher.max_issued <= target_rows,
                    "max issuedQuantity seen " + std::to_string(watcher.max_issued));

    // 5. Reconciliation.
    if (!o.skip_reconcile) {
        auto rr = co_await env.Call(bhttp::verb::get, "/api/v1/admin/reconciliation", {}, true);
        if (rr.status == 404 || rr.status == 405) {
            report.notes.push_back("reconciliation endpoint not available (HTTP " +
                                   std::to_string(rr.status) + ")");
        } else if (rr.status != 200) {
            report.notes.push_back("GET /api/v1/admin/reconciliation: " + Describe(rr));
        } else {
            auto v = ParseJson(rr.body);
            auto entry = v ? FindReconEntry(*v, template_id) : std::nullopt;
            bool entry_ok = entry && entry->is_object() && entry->get_object().if_contains("ok") &&
                            entry->get_object().at("ok") == json::value(true);
            const char* source = "last report (GET)";
            if (!entry_ok) {
                // The last report predates the drop or the drain: ask for a fresh one (no repair).
                auto fr =
                    co_await env.Call(bhttp::verb::post, "/api/v1/admin/reconciliation", {}, true);
                if (fr.status == 200) {
                    auto fv = ParseJson(fr.body);
                    if (auto fe = fv ? FindReconEntry(*fv, template_id) : std::nullopt) {
                        entry = fe;
                        source = "fresh report (POST, no repair)";
                    }
                } else {
                    report.notes.push_back("POST /api/v1/admin/reconciliation: " + Describe(fr));
                }
            }
            if (entry) {
                report.extra["reconciliation"] = *entry;
                bool ok = entry->is_object() && entry->get_object().if_contains("ok") &&
                          entry->get_object().at("ok") == json::value(true);
                report.AddCheck(std::string("reconciliation ok (") + source + ")", ok,
                                json::serialize(*entry));
            } else {
                report.notes.push_back("reconciliation report has no entry for template " +
                                       std::to_string(template_id));
            }
        }
    }
    report.extra["series"] = json::array(watcher.series.begin(), watcher.series.end());
    co_return FinishReport(report, env.opt);
}

}  // namespace joopang::bench
