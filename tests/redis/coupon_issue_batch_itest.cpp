// Coalesced issue requests against a real redis-server: the requests one event loop reads in one
// turn go to Redis as one script call, and each is decided in arrival order exactly as if it had
// been alone — per-user limit, stock, sold-out mark, positions, rate limit.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <tuple>

#include "infra/redis/client.hpp"
#include "infra/redis/coupon_codec.hpp"
#include "infra/redis/coupon_issue_batcher.hpp"
#include "infra/redis/coupon_keys.hpp"
#include "infra/redis/redis_coupon_gate.hpp"
#include "infra/redis/redis_coupon_issue_queue.hpp"
#include "observability/metrics.hpp"
#include "redis_test_support.hpp"

namespace joopang::redis {
namespace {

namespace asio = boost::asio;
using Kind = IssueDecision::Kind;

/// A stream entry's fields by name (an XRANGE element: {id, {field, value, ...}}).
std::map<std::string, std::string> Fields(const Reply& entry) {
    std::map<std::string, std::string> out;
    const auto& f = entry.elements.at(1).elements;
    for (std::size_t i = 0; i + 1 < f.size(); i += 2) out[f[i].str] = f[i + 1].str;
    return out;
}

using testing::Require;

class CouponIssueBatchTest : public testing::OneServerTest<Client> {
  public:
    /// Everything a test needs on one single-threaded event loop, as the service's I/O threads
    /// run: a client, a store (rate limit `rate`) and a batcher of at most `max_batch`.
    struct Loop {
        std::shared_ptr<Client> client;
        std::unique_ptr<RedisCouponGate> gate;
        std::unique_ptr<RedisCouponIssueQueue> queue;
        std::unique_ptr<CouponIssueBatcher> batcher;
    };

    /// Runs `body` on a fresh single-threaded io_context. The store remembers sold-out answers
    /// for `sold_out_memo`.
    void OnOneLoop(
        std::int64_t rate,
        std::size_t max_batch,
        std::function<asio::awaitable<void>(Loop&)> body,
        std::size_t max_in_flight = CouponIssueBatcher::kDefaultMaxInFlight,
        std::chrono::milliseconds sold_out_memo = CouponIssueBatcher::kDefaultSoldOutMemo) {
        const std::string url = server_->Url();
        testing::RunCoroutine([&](asio::io_context& io) -> asio::awaitable<void> {
            auto c = co_await Connect(io.get_executor(), url);
            if (!c) throw std::runtime_error("connect failed: " + c.error().message);
            Loop loop;
            loop.client = *c;
            CouponGateSettings settings{rate};
            settings.sold_out_memo = sold_out_memo;
            loop.gate = std::make_unique<RedisCouponGate>(loop.client, settings);
            loop.queue = std::make_unique<RedisCouponIssueQueue>(loop.client);
            loop.batcher =
                std::make_unique<CouponIssueBatcher>(loop.client, rate, max_batch, max_in_flight);
            co_await body(loop);
            loop.client->Close();
        });
    }

    /// Starts one issue request per user at once — all read in the same turn of the loop, as
    /// the service's sessions are — and returns their answers in the same order.
    static asio::awaitable<std::vector<Result<IssueDecision>>> IssueTogether(
        std::function<asio::awaitable<Result<IssueDecision>>(std::int64_t)> issue,
        std::vector<std::int64_t> users) {
        auto ex = co_await asio::this_coro::executor;
        std::vector<std::optional<Result<IssueDecision>>> got(users.size());
        std::size_t done = 0;
        for (std::size_t i = 0; i < users.size(); ++i) {
            asio::co_spawn(ex, issue(users[i]),
                           [&got, &done, i](std::exception_ptr e, Result<IssueDecision> r) {
                               if (e) std::rethrow_exception(e);
                               got[i] = std::move(r);
                               ++done;
                           });
        }
        asio::steady_timer timer(ex);
        while (done < users.size()) {
            timer.expires_after(std::chrono::milliseconds(1));
            co_await timer.async_wait(asio::use_awaitable);
        }
        std::vector<Result<IssueDecision>> out;
        for (auto& g : got) out.push_back(std::move(*g));
        co_return out;
    }

    static asio::awaitable<Reply> Must(Client& c, Args args) {
        auto r = co_await c.Command(std::move(args));
        if (!r) throw std::runtime_error(r.error().message);
        co_return *r;
    }

    /// Script calls Redis has run since its statistics were last reset.
    static asio::awaitable<long long> ScriptCalls(Client& c) {
        Reply info = co_await Must(c, MakeArgs("INFO", "commandstats"));
        long long calls = 0;
        for (const char* name : {"cmdstat_evalsha:calls=", "cmdstat_eval:calls="}) {
            auto at = info.str.find(name);
            if (at != std::string::npos)
                calls += std::stoll(info.str.substr(at + std::strlen(name)));
        }
        co_return calls;
    }

    static asio::awaitable<void> Publish(Loop& loop,
                                         std::int64_t id,
                                         std::int64_t quantity,
                                         std::int64_t per_user_limit = 1,
                                         TemplateStatus status = TemplateStatus::kActive,
                                         std::int64_t already_issued = 0) {
        CouponTemplate t;
        t.id = id;
        t.title = "batch";
        t.total_quantity = quantity;
        t.per_user_limit = per_user_limit;
        t.status = status;
        auto st = co_await loop.gate->Publish(t, already_issued);
        if (!st) throw std::runtime_error(st.error().message);
    }

    /// Loads the script and clears Redis's call counts, so ScriptCalls() counts the test's own.
    static asio::awaitable<void> Warm(Loop& loop) {
        co_await Publish(loop, 999, 1);
        auto warm = co_await loop.gate->TryIssue(999, 1);
        if (!warm) throw std::runtime_error(warm.error().message);
        co_await Must(*loop.client, MakeArgs("CONFIG", "RESETSTAT"));
    }

    static void ExpectWin(const Result<IssueDecision>& d,
                          std::int64_t position,
                          std::int64_t remaining) {
        ASSERT_TRUE(d) << d.error().message;
        EXPECT_EQ(d->kind, Kind::kReserved);
        EXPECT_EQ(d->position, position);
        EXPECT_EQ(d->remaining, remaining);
        EXPECT_GT(d->request_id, 0);
    }
    static void ExpectLoss(const Result<IssueDecision>& d, Kind kind) {
        ASSERT_TRUE(d) << d.error().message;
        EXPECT_EQ(d->kind, kind);
    }

    /// ThreeTurnsBehindAPause (below) on a batcher allowing `max_in_flight` calls: Redis runs
    /// `calls` script calls, and the four requests win in arrival order.
    void ExpectThreeTurnsBehindAPause(std::size_t max_in_flight,
                                      std::int64_t template_id,
                                      long long calls);

    /// Runs `body` on one loop whose store remembers sold-out answers for `memo`, once template
    /// `id` (one coupon) is sold out and answered (see SellOutAndAnswer).
    /// Waits `settle` (a roster read under way finishes), pauses Redis, then runs `asks`: each of
    /// its answers must come from memory — no script call, and well within the pause.
    static asio::awaitable<void> FromMemoryWithRedisPaused(
        Loop& loop, std::chrono::milliseconds settle, std::function<asio::awaitable<void>()> asks) {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_after(settle);
        co_await timer.async_wait(asio::use_awaitable);
        const long long calls = co_await ScriptCalls(*loop.client);
        co_await Must(*loop.client, MakeArgs("CLIENT", "PAUSE", "400", "ALL"));
        const auto start = std::chrono::steady_clock::now();
        co_await asks();
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
        EXPECT_EQ(co_await ScriptCalls(*loop.client), calls);
    }

    void OnASoldOutTemplate(std::int64_t id,
                            std::chrono::milliseconds memo,
                            std::function<asio::awaitable<void>(Loop&)> body);
};

TEST_F(CouponIssueBatchTest, RequestsReadInOneTurnAreOneScriptCallDecidedInArrivalOrder) {
    OnOneLoop(0, CouponIssueBatcher::kDefaultMaxBatch, [](Loop& loop) -> asio::awaitable<void> {
        co_await Warm(loop);
        co_await Publish(loop, 1, 3);
        auto issue = [&loop](std::int64_t u) { return loop.gate->TryIssue(1, u); };
        // User 1 twice, three coupons, then a loser of the stock and a repeat of a winner: the
        // repeat hears 409, not 410 (the per-user check comes first, as for a lone request).
        const std::vector<std::int64_t> users135{1, 1, 2, 3, 4, 2};
        auto d = co_await IssueTogether(issue, users135);
        EXPECT_EQ(co_await ScriptCalls(*loop.client), 1);
        ExpectWin(d[0], 1, 2);
        ExpectLoss(d[1], Kind::kAlreadyIssued);
        ExpectWin(d[2], 2, 1);
        ExpectWin(d[3], 3, 0);
        ExpectLoss(d[4], Kind::kSoldOut);
        ExpectLoss(d[5], Kind::kAlreadyIssued);
        // The three wins share the call's one stream entry: their request ids are its id and
        // their index in it, so they follow one another.
        EXPECT_GT(d[0]->request_id, 0);
        EXPECT_EQ(d[2]->request_id, d[0]->request_id + 1);
        EXPECT_EQ(d[3]->request_id, d[0]->request_id + 2);

        Client& c = *loop.client;
        EXPECT_EQ((co_await Must(c, MakeArgs("GET", coupon_keys::Stock(1)))).str, "0");
        EXPECT_EQ((co_await Must(c, MakeArgs("GET", coupon_keys::Seq(1)))).str, "3");
        // Each winner holds one: a bit each in the bitmap, nothing in the hash.
        EXPECT_EQ((co_await Must(c, MakeArgs("EXISTS", coupon_keys::Users(1)))).integer, 0);
        Reply bits = co_await Must(c, MakeArgs("BITFIELD_RO", coupon_keys::Won(1), "GET", "u5",
                                               "0"));  // users 0..4
        Require(bits.elements.size() == 1, "BITFIELD_RO");
        EXPECT_EQ(bits.elements[0].integer, 0b01110) << "bits of users 1, 2 and 3";
        Reply entries = co_await Must(c, MakeArgs("XRANGE", coupon_keys::Stream(1), "-", "+"));
        Require(entries.elements.size() == 1, "one stream entry for the call");
        const auto& entry = entries.elements[0];
        EXPECT_EQ(coupon_codec::RequestIdOf(entry.elements.at(0).str, 0), d[0]->request_id);
        EXPECT_EQ(Fields(entry),
                  (std::map<std::string, std::string>{{"p", "1"}, {"w", "1:1,2:1,3:1"}}));
        // The persister reads them back as three wins, each with the request id its client got.
        auto read = co_await loop.queue->ReadNew(1, "reader", 10);
        if (!read) throw std::runtime_error(read.error().message);
        std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>> wins;
        for (const auto& w : *read)
            wins.emplace_back(w.coupon.user_id, w.coupon.seq, w.coupon.position,
                              w.coupon.request_id);
        EXPECT_EQ(wins,
                  (std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>>{
                      {1, 1, 1, d[0]->request_id},
                      {2, 1, 2, d[2]->request_id},
                      {3, 1, 3, d[3]->request_id}}));
        // And a status lookup finds each by its request id while it waits in the stream.
        for (std::size_t i : {0u, 2u, 3u}) {
            auto st = co_await loop.gate->FindRequest(1, d[i]->request_id);
            if (!st || !*st) throw std::runtime_error("request not found");
            EXPECT_EQ((*st)->kind, IssueRequestState::Kind::kReserved);
            EXPECT_EQ((*st)->position, d[i]->position);
        }
        auto none = co_await loop.gate->FindRequest(1, d[0]->request_id + 3);
        EXPECT_TRUE(none && !*none) << "a fourth win in a three-win entry";
        // The batch that emptied the stock marked the template sold out for the next ones.
        EXPECT_EQ((co_await Must(c, MakeArgs("HGET", coupon_keys::Meta(1), "gate"))).str, "-1");
        ExpectLoss(co_await loop.gate->TryIssue(1, 5), Kind::kSoldOut);
        ExpectLoss(co_await loop.gate->TryIssue(1, 3), Kind::kAlreadyIssued);
    });
}

TEST_F(CouponIssueBatchTest, AnEntryNumberedPastThreeDigitsMovesToTheNextMillisecond) {
    // A request id holds the entry's sequence number in three digits. Should Redis number a
    // call's entry 1000 or more (a thousand entries in one ms), the script adds it again as the
    // first entry of the next ms. Forced here with an entry "ms-999" in the future: Redis then
    // numbers the next one ms-1000, whatever its clock says.
    OnOneLoop(0, CouponIssueBatcher::kDefaultMaxBatch, [](Loop& loop) -> asio::awaitable<void> {
        co_await Publish(loop, 40, 10);
        Client& c = *loop.client;
        const std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count() +
                                60'000;
        const std::string stream = coupon_keys::Stream(40);
        co_await Must(c,
                      MakeArgs("XADD", stream, std::to_string(ms) + "-999", "p", "1", "w", "77:1"));
        auto d = co_await loop.gate->TryIssue(40, 5);
        ExpectWin(d, 1, 9);
        Require(d.has_value(), "no decision");
        EXPECT_EQ(coupon_codec::EntryIdOf(d->request_id), std::to_string(ms + 1) + "-0");
        EXPECT_EQ(d->request_id % 1000, 0);
        Reply entries = co_await Must(c, MakeArgs("XRANGE", stream, "-", "+"));
        Require(entries.elements.size() == 2, "the old entry and the win's, nothing else");
        EXPECT_EQ(entries.elements[1].elements.at(0).str, std::to_string(ms + 1) + "-0");
        EXPECT_EQ(Fields(entries.elements[1])["w"], "5:1");
        auto st = co_await loop.gate->FindRequest(40, d->request_id);
        Require(st && *st, "the win's request is not found");
        EXPECT_EQ((*st)->user_id, 5);
    });
}

TEST_F(CouponIssueBatchTest, AUserWithALimitOfTwoWinsTwiceInOneBatch) {
    OnOneLoop(0, CouponIssueBatcher::kDefaultMaxBatch, [](Loop& loop) -> asio::awaitable<void> {
        co_await Warm(loop);
        co_await Publish(loop, 2, 10, 2);
        auto issue = [&loop](std::int64_t u) { return loop.gate->TryIssue(2, u); };
        const std::vector<std::int64_t> users170{7, 8, 7, 7};
        auto d = co_await IssueTogether(issue, users170);
        EXPECT_EQ(co_await ScriptCalls(*loop.client), 1);
        ExpectWin(d[0], 1, 9);
        ExpectWin(d[1], 2, 8);
        ExpectWin(d[2], 3, 7);
        ExpectLoss(d[3], Kind::kAlreadyIssued);
        Client& c = *loop.client;
        // A second coupon goes to the hash (it wins over the bit); a first is the user's bit.
        EXPECT_EQ((co_await Must(c, MakeArgs("HGET", coupon_keys::Users(2), "7"))).str, "2");
        EXPECT_TRUE((co_await Must(c, MakeArgs("HGET", coupon_keys::Users(2), "8"))).IsNil());
        EXPECT_EQ((co_await Must(c, MakeArgs("GETBIT", coupon_keys::Won(2), "8"))).integer, 1);
        // The entries carry each win's own count of the user's coupons (the persister's unique
        // key), not the batch's final one.
        Reply entries = co_await Must(c, MakeArgs("XRANGE", coupon_keys::Stream(2), "-", "+"));
        Require(entries.elements.size() == 1, "one stream entry for the call");
        EXPECT_EQ(Fields(entries.elements[0])["w"], "7:1,8:1,7:2");
        // A later batch reads the counts the earlier one left: user 8 holds one of two, user 7
        // both.
        const std::vector<std::int64_t> later{8, 7, 8};
        auto e = co_await IssueTogether(issue, later);
        ExpectWin(e[0], 4, 6);
        ExpectLoss(e[1], Kind::kAlreadyIssued);
        ExpectLoss(e[2], Kind::kAlreadyIssued);
        EXPECT_EQ((co_await Must(c, MakeArgs("HGET", coupon_keys::Users(2), "8"))).str, "2");
    });
}

TEST_F(CouponIssueBatchTest, UsersPastTheBitmapAndCountsWrittenToTheHashAreHeldToo) {
    OnOneLoop(0, CouponIssueBatcher::kDefaultMaxBatch, [](Loop& loop) -> asio::awaitable<void> {
        co_await Warm(loop);
        co_await Publish(loop, 41, 10);
        Client& c = *loop.client;
        // A count in the hash, as a drop published before the bitmap existed left it.
        co_await Must(c, MakeArgs("HSET", coupon_keys::Users(41), "11", "1"));
        const std::int64_t big = 134'217'728;  // 2^27: the first id past the bitmap
        auto issue = [&loop](std::int64_t u) { return loop.gate->TryIssue(41, u); };
        // 6,000 is past this drop's bound (512 ids a coupon: 5,120 for 10), so it goes to the
        // hash too: a small drop won by a high id keeps a small bitmap.
        const std::vector<std::int64_t> first{11, big, big + 1, 12, 6'000};
        auto d = co_await IssueTogether(issue, first);
        ExpectLoss(d[0], Kind::kAlreadyIssued);
        ExpectWin(d[1], 1, 9);
        ExpectWin(d[2], 2, 8);
        ExpectWin(d[3], 3, 7);
        ExpectWin(d[4], 4, 6);
        EXPECT_EQ((co_await Must(c, MakeArgs("HGET", coupon_keys::Users(41), "6000"))).str, "1");
        EXPECT_EQ(
            (co_await Must(c, MakeArgs("HGET", coupon_keys::Users(41), std::to_string(big)))).str,
            "1");
        EXPECT_EQ(
            (co_await Must(c, MakeArgs("HGET", coupon_keys::Users(41), std::to_string(big + 1))))
                .str,
            "1");
        EXPECT_EQ((co_await Must(c, MakeArgs("STRLEN", coupon_keys::Won(41)))).integer, 2)
            << "the bitmap reaches user 12 only";
        const std::vector<std::int64_t> again{big, 12, big + 1, 11, 6'000};
        auto e = co_await IssueTogether(issue, again);
        for (const auto& answer : e) ExpectLoss(answer, Kind::kAlreadyIssued);
    });
}

TEST_F(CouponIssueBatchTest, ARateLimitCountsEveryRequestOfABatch) {
    OnOneLoop(2, CouponIssueBatcher::kDefaultMaxBatch, [](Loop& loop) -> asio::awaitable<void> {
        co_await Warm(loop);
        co_await Publish(loop, 3, 10);
        auto issue = [&loop](std::int64_t u) { return loop.gate->TryIssue(3, u); };
        const std::vector<std::int64_t> users198{5, 5, 5, 6, 5};
        auto d = co_await IssueTogether(issue, users198);
        EXPECT_EQ(co_await ScriptCalls(*loop.client), 1);
        ExpectWin(d[0], 1, 9);
        ExpectLoss(d[1], Kind::kAlreadyIssued);
        ExpectLoss(d[2], Kind::kRateLimited);
        ExpectWin(d[3], 2, 8);
        ExpectLoss(d[4], Kind::kRateLimited);
        EXPECT_GT(d[2]->retry_after_ms, 0);
        EXPECT_LE(d[2]->retry_after_ms, 1000);
    });
}

TEST_F(CouponIssueBatchTest, UnknownAndPausedTemplatesAnswerEveryRequestOfTheBatch) {
    OnOneLoop(0, CouponIssueBatcher::kDefaultMaxBatch, [](Loop& loop) -> asio::awaitable<void> {
        co_await Warm(loop);
        auto unknown = [&loop](std::int64_t u) { return loop.gate->TryIssue(404, u); };
        const std::vector<std::int64_t> users215{1, 2, 3};
        for (const auto& d : co_await IssueTogether(unknown, users215))
            ExpectLoss(d, Kind::kUnknownTemplate);
        co_await Publish(loop, 4, 10, 1, TemplateStatus::kPaused);
        auto paused = [&loop](std::int64_t u) { return loop.gate->TryIssue(4, u); };
        const std::vector<std::int64_t> users225{1, 2};
        for (const auto& d : co_await IssueTogether(paused, users225))
            ExpectLoss(d, Kind::kNotActive);
        EXPECT_EQ(co_await ScriptCalls(*loop.client), 2);
        EXPECT_EQ((co_await Must(*loop.client, MakeArgs("EXISTS", coupon_keys::Seq(4)))).integer,
                  0);
    });
}

TEST_F(CouponIssueBatchTest, ABatchCarriesAtMostItsLimitAndTheRestFollowInOrder) {
    OnOneLoop(0, 2, [](Loop& loop) -> asio::awaitable<void> {
        co_await Warm(loop);
        co_await Publish(loop, 5, 100);
        auto issue = [&loop](std::int64_t u) { return loop.batcher->Issue(5, u); };
        const std::vector<std::int64_t> users239{1, 2, 3, 4, 5};
        auto d = co_await IssueTogether(issue, users239);
        EXPECT_EQ(co_await ScriptCalls(*loop.client), 3);  // 2 + 2 + 1
        for (std::int64_t i = 0; i < 5; ++i) ExpectWin(d[i], i + 1, 99 - i);
    });
}

/// Requests of three turns of the loop while Redis holds the first turn's call (CLIENT PAUSE):
/// with one call allowed in flight, the second and third turns wait and go as one call; with no
/// limit (as before --issue-in-flight), each turn is a call of its own. Either way every request
/// is decided in arrival order.
asio::awaitable<std::pair<long long, std::vector<Result<IssueDecision>>>> ThreeTurnsBehindAPause(
    CouponIssueBatcher& batcher, Client& client, std::int64_t template_id) {
    auto ex = co_await asio::this_coro::executor;
    auto r = co_await client.Command(MakeArgs("CLIENT", "PAUSE", "300", "ALL"));
    if (!r || r->IsError()) throw std::runtime_error("CLIENT PAUSE failed");
    std::vector<std::optional<Result<IssueDecision>>> got(4);
    std::size_t done = 0;
    asio::steady_timer timer(ex);
    const std::vector<std::vector<std::int64_t>> turns{{1}, {2}, {3, 4}};
    std::size_t i = 0;
    for (const auto& turn : turns) {
        for (std::int64_t user : turn) {
            asio::co_spawn(ex, batcher.Issue(template_id, user),
                           [&got, &done, at = i++](std::exception_ptr e, Result<IssueDecision> d) {
                               if (e) std::rethrow_exception(e);
                               got[at] = std::move(d);
                               ++done;
                           });
        }
        timer.expires_after(std::chrono::milliseconds(20));  // the next turn, well inside the pause
        co_await timer.async_wait(asio::use_awaitable);
    }
    while (done < got.size()) {
        timer.expires_after(std::chrono::milliseconds(1));
        co_await timer.async_wait(asio::use_awaitable);
    }
    Reply info = (co_await client.Command(MakeArgs("INFO", "commandstats"))).value();
    long long calls = 0;
    for (const char* name : {"cmdstat_evalsha:calls=", "cmdstat_eval:calls="}) {
        auto at = info.str.find(name);
        if (at != std::string::npos) calls += std::stoll(info.str.substr(at + std::strlen(name)));
    }
    std::vector<Result<IssueDecision>> out;
    for (auto& g : got) out.push_back(std::move(*g));
    co_return std::pair{calls, std::move(out)};
}

void CouponIssueBatchTest::ExpectThreeTurnsBehindAPause(std::size_t max_in_flight,
                                                        std::int64_t template_id,
                                                        long long calls) {
    OnOneLoop(
        0, CouponIssueBatcher::kDefaultMaxBatch,
        [template_id, calls](Loop& loop) -> asio::awaitable<void> {
            co_await Warm(loop);
            co_await Publish(loop, template_id, 100);
            auto [made, d] =
                co_await ThreeTurnsBehindAPause(*loop.batcher, *loop.client, template_id);
            EXPECT_EQ(made, calls);
            for (std::int64_t i = 0; i < 4; ++i) ExpectWin(d[i], i + 1, 99 - i);
        },
        max_in_flight);
}

TEST_F(CouponIssueBatchTest, WithACallInFlightLaterTurnsWaitAndGoTogether) {
    // {1}, then {2, 3, 4}
    ExpectThreeTurnsBehindAPause(/*max_in_flight=*/1, /*template_id=*/6, /*calls=*/2);
}

TEST_F(CouponIssueBatchTest, WithoutAnInFlightLimitEveryTurnIsACall) {
    // {1}, {2}, {3, 4}
    ExpectThreeTurnsBehindAPause(/*max_in_flight=*/64, /*template_id=*/7, /*calls=*/3);
}

/// Sells out template `id` (one coupon, won by user 1) and lets the store hear user 1's 409 and
/// users 2 and 3's 410 while it is sold out.
asio::awaitable<void> SellOutAndAnswer(CouponIssueBatchTest::Loop& loop, std::int64_t id) {
    auto issue = [&loop, id](std::int64_t u) { return loop.gate->TryIssue(id, u); };
    auto first = co_await loop.gate->TryIssue(id, 1);
    if (!first || first->kind != Kind::kReserved) throw std::runtime_error("user 1 did not win");
    const std::vector<std::int64_t> users{1, 2, 3};
    auto d = co_await CouponIssueBatchTest::IssueTogether(issue, users);
    CouponIssueBatchTest::ExpectLoss(d[0], Kind::kAlreadyIssued);
    CouponIssueBatchTest::ExpectLoss(d[1], Kind::kSoldOut);
    CouponIssueBatchTest::ExpectLoss(d[2], Kind::kSoldOut);
}

void CouponIssueBatchTest::OnASoldOutTemplate(std::int64_t id,
                                              std::chrono::milliseconds memo,
                                              std::function<asio::awaitable<void>(Loop&)> body) {
    OnOneLoop(
        0, CouponIssueBatcher::kDefaultMaxBatch,
        [id, &body](Loop& loop) -> asio::awaitable<void> {
            co_await Warm(loop);
            co_await Publish(loop, id, 1);
            co_await SellOutAndAnswer(loop, id);
            co_await body(loop);
        },
        CouponIssueBatcher::kDefaultMaxInFlight, memo);
}

/// The decision for one request and how long it took.
asio::awaitable<std::pair<Result<IssueDecision>, std::chrono::milliseconds>> Timed(
    RedisCouponGate& store, std::int64_t template_id, std::int64_t user) {
    const auto start = std::chrono::steady_clock::now();
    auto d = co_await store.TryIssue(template_id, user);
    co_return std::pair{std::move(d), std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - start)};
}

TEST_F(CouponIssueBatchTest, OnceSoldOutUsersAlreadyAnsweredAreAnsweredWithoutRedis) {
    OnASoldOutTemplate(
        20, std::chrono::milliseconds(2000), [](Loop& loop) -> asio::awaitable<void> {
            const long long calls = co_await ScriptCalls(*loop.client);
            auto& hits =
                obs::Registry::Global().GetCounter("joopang_cache_requests_total", "",
                                                   {{"cache", "sold_out_memo"}, {"result", "hit"}});
            const auto hits_before = hits.Value();
            // Redis holds every command for 400 ms: remembered answers do not wait for it.
            co_await Must(*loop.client, MakeArgs("CLIENT", "PAUSE", "400", "ALL"));
            auto [d1, t1] = co_await Timed(*loop.gate, 20, 1);
            auto [d2, t2] = co_await Timed(*loop.gate, 20, 2);
            ExpectLoss(d1, Kind::kAlreadyIssued);
            ExpectLoss(d2, Kind::kSoldOut);
            EXPECT_LT(t1.count() + t2.count(), 200);
            EXPECT_EQ(co_await ScriptCalls(*loop.client), calls);
            EXPECT_EQ(hits.Value(), hits_before + 2);  // what /metrics shows
        });
}

TEST_F(CouponIssueBatchTest, OnceSoldOutEvenUsersNeverHeardOfAreAnsweredFromTheRoster) {
    OnOneLoop(
        0, CouponIssueBatcher::kDefaultMaxBatch,
        [](Loop& loop) -> asio::awaitable<void> {
            co_await Warm(loop);
            co_await Publish(loop, 23, 3, /*per_user_limit=*/2);
            auto issue = [&loop](std::int64_t u) { return loop.gate->TryIssue(23, u); };
            const std::vector<std::int64_t> winners{1, 2, 1};  // user 1 holds 2 of 2, user 2 1
            for (const auto& d : co_await IssueTogether(issue, winners))
                ExpectLoss(d, Kind::kReserved);
            // The first sold-out answer starts reading the roster of users at the limit.
            ExpectLoss(co_await loop.gate->TryIssue(23, 3), Kind::kSoldOut);
            co_await FromMemoryWithRedisPaused(
                loop, std::chrono::milliseconds(200), [&loop]() -> asio::awaitable<void> {
                    ExpectLoss(co_await loop.gate->TryIssue(23, 1), Kind::kAlreadyIssued);
                    ExpectLoss(co_await loop.gate->TryIssue(23, 2), Kind::kSoldOut);  // 1 of 2
                    ExpectLoss(co_await loop.gate->TryIssue(23, 99), Kind::kSoldOut);
                });
        },
        CouponIssueBatcher::kDefaultMaxInFlight, std::chrono::milliseconds(2000));
}

TEST_F(CouponIssueBatchTest, ARosterOfALimitOfOneComesFromTheBitmapAndTheHash) {
    OnOneLoop(
        0, CouponIssueBatcher::kDefaultMaxBatch,
        [](Loop& loop) -> asio::awaitable<void> {
            co_await Warm(loop);
            // 2,000 coupons of which 1,996 went before: 4 left, and a bitmap bound of 1,024,000.
            co_await Publish(loop, 26, 2000, 1, TemplateStatus::kActive, 1996);
            auto issue = [&loop](std::int64_t u) { return loop.gate->TryIssue(26, u); };
            // Bits on several 8 KiB pages of the bitmap, and one user past it, in the hash.
            const std::int64_t big = 134'217'728 + 5;
            const std::vector<std::int64_t> winners{3, 70'000, 600'000, big};
            for (const auto& d : co_await IssueTogether(issue, winners))
                ExpectLoss(d, Kind::kReserved);
            EXPECT_EQ(
                (co_await Must(*loop.client, MakeArgs("STRLEN", coupon_keys::Won(26)))).integer,
                600'000 / 8 + 1)
                << "user 600,000's bit, ten 8 KiB pages in";
            ExpectLoss(co_await loop.gate->TryIssue(26, 4), Kind::kSoldOut);  // reads the roster
            co_await FromMemoryWithRedisPaused(
                loop, std::chrono::milliseconds(300), [&]() -> asio::awaitable<void> {
                    for (std::int64_t u : winners)
                        ExpectLoss(co_await loop.gate->TryIssue(26, u), Kind::kAlreadyIssued);
                    const std::vector<std::int64_t> losers{2, 69'999, 600'001, big + 1};
                    for (std::int64_t u : losers)
                        ExpectLoss(co_await loop.gate->TryIssue(26, u), Kind::kSoldOut);
                });
        },
        CouponIssueBatcher::kDefaultMaxInFlight, std::chrono::milliseconds(2000));
}

TEST_F(CouponIssueBatchTest, ASoldOutMemoryNobodyUsesIsDropped) {
    OnOneLoop(0, CouponIssueBatcher::kDefaultMaxBatch, [](Loop& loop) -> asio::awaitable<void> {
        co_await Warm(loop);
        // Memory kept 50 ms after each confirmation, dropped 200 ms after that.
        CouponIssueBatcher batcher(loop.client, 0, CouponIssueBatcher::kDefaultMaxBatch,
                                   CouponIssueBatcher::kDefaultMaxInFlight,
                                   std::chrono::milliseconds(50), std::chrono::milliseconds(200));
        co_await Publish(loop, 24, 1);
        co_await Publish(loop, 25, 100);
        ExpectLoss(co_await batcher.Issue(24, 1), Kind::kReserved);
        ExpectLoss(co_await batcher.Issue(24, 2), Kind::kSoldOut);  // memo, and a roster read
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_after(std::chrono::milliseconds(100));
        co_await timer.async_wait(asio::use_awaitable);
        EXPECT_EQ(batcher.SoldOutMemories(), (std::pair<std::size_t, std::size_t>{1, 1}));
        // Sweeps run at most once a second, from a script call's answer: one on template 25,
        // which is not sold out, after the memory of 24 has gone unused for long enough.
        timer.expires_after(std::chrono::milliseconds(1100));
        co_await timer.async_wait(asio::use_awaitable);
        ExpectLoss(co_await batcher.Issue(25, 1), Kind::kReserved);
        EXPECT_EQ(batcher.SoldOutMemories(), (std::pair<std::size_t, std::size_t>{0, 0}));
        // Asked again, template 24 is learned afresh.
        ExpectLoss(co_await batcher.Issue(24, 1), Kind::kAlreadyIssued);
        EXPECT_EQ(batcher.SoldOutMemories().first, 1u);
    });
}

TEST_F(CouponIssueBatchTest, ThisProcesssOwnPauseEndsRememberedAnswersAtOnce) {
    OnASoldOutTemplate(21, std::chrono::milliseconds(2000),
                       [](Loop& loop) -> asio::awaitable<void> {
                           co_await Publish(loop, 21, 1, 1, TemplateStatus::kPaused);
                           ExpectLoss(co_await loop.gate->TryIssue(21, 2), Kind::kNotActive);
                           ExpectLoss(co_await loop.gate->TryIssue(21, 1), Kind::kNotActive);
                       });
}

TEST_F(CouponIssueBatchTest, ARestoreByAnotherProcessIsSeenAfterTheMemoTtl) {
    const std::string url = server_->Url();
    OnASoldOutTemplate(
        22, std::chrono::milliseconds(250), [url](Loop& loop) -> asio::awaitable<void> {
            // Users 2 and 3 are remembered as 410.
            // Another process restores the counters with one more coupon, and user 2 wins it
            // there: the template is sold out again, under a new generation.
            auto other_client = co_await Connect(co_await asio::this_coro::executor, url);
            if (!other_client) throw std::runtime_error("connect failed");
            RedisCouponGate other(*other_client, CouponGateSettings{0});
            CouponTemplate t;
            t.id = 22;
            t.title = "restored";
            t.total_quantity = 2;
            auto seen = co_await other.Counters(22);
            if (!seen) throw std::runtime_error(seen.error().message);
            auto restored = co_await other.Restore(t, *seen, 1, {});
            if (!restored || !*restored) throw std::runtime_error("the restore did not apply");
            ExpectWin(co_await other.TryIssue(22, 2), 2, 0);
            ExpectLoss(co_await other.TryIssue(22, 5), Kind::kSoldOut);
            (*other_client)->Close();
            // Once the memo's time has run out, this process asks Redis again; the sold-out
            // answer it gets (for user 3) comes with the new generation, so user 2 is not
            // answered from what was remembered before (410) but by Redis: 409.
            asio::steady_timer timer(co_await asio::this_coro::executor);
            timer.expires_after(std::chrono::milliseconds(300));
            co_await timer.async_wait(asio::use_awaitable);
            ExpectLoss(co_await loop.gate->TryIssue(22, 3), Kind::kSoldOut);
            ExpectLoss(co_await loop.gate->TryIssue(22, 2), Kind::kAlreadyIssued);
        });
}

TEST_F(CouponIssueBatchTest, EveryRequestOfABatchHearsTheErrorWhenRedisIsGone) {
    OnOneLoop(0, CouponIssueBatcher::kDefaultMaxBatch, [](Loop& loop) -> asio::awaitable<void> {
        co_await Warm(loop);
        loop.client->Close();
        auto issue = [&loop](std::int64_t u) { return loop.gate->TryIssue(1, u); };
        const std::vector<std::int64_t> users251{1, 2, 3};
        for (const auto& d : co_await IssueTogether(issue, users251)) {
            EXPECT_FALSE(d);
            if (!d) {
                EXPECT_EQ(d.error().code, ErrorCode::kUnavailable);
            }
        }
    });
}

}  // namespace
}  // namespace joopang::redis
