// The waiting room's line on a real redis-server: one live token per user, a token seen only by
// its owner, admission from the head of the line into active slots, a payment's release, tokens
// unread past their time swept out of the line — and, with 1,000,000 tokens waiting, joins and
// position reads that stay exact (their latencies printed: O(log N) sorted-set operations).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <thread>

#include "infra/redis/redis_waiting_line.hpp"
#include "redis_test_support.hpp"

namespace joopang::redis {
namespace {

using std::chrono::steady_clock;

class WaitingLineRedisTest : public testing::OneClientTest {
  protected:
    void SetUp() override {
        testing::OneClientTest::SetUp();
        Must(MakeArgs("FLUSHALL"));
    }
    QueueTicket Join(RedisWaitingLine& line, std::int64_t user, const std::string& fresh) {
        auto t = Run(line.Join(user, fresh));
        EXPECT_TRUE(t) << t.error().message;
        return t ? *t : QueueTicket{};
    }
    std::pair<TokenLookup, QueueTicket> Read(RedisWaitingLine& line,
                                             const std::string& token,
                                             std::int64_t user) {
        auto r = Run(line.Read(token, user));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : std::pair{TokenLookup::kUnknown, QueueTicket{}};
    }
    static std::string Token(int i) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%032d", i);
        return buf;
    }
};

TEST_F(WaitingLineRedisTest, TokensAreTheirOwnersAndLeaveTheHeadOfTheLineForActiveSlots) {
    RedisWaitingLine line(client_, QueueTtls{});
    auto a = Join(line, 1, Token(1));
    EXPECT_TRUE(a.created);
    EXPECT_EQ(a.position, 1);
    EXPECT_EQ(a.state, QueueState::kWaiting);
    auto again = Join(line, 1, Token(99));  // one live token per user
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.token, Token(1));
    EXPECT_EQ(Join(line, 2, Token(2)).position, 2);
    EXPECT_EQ(Join(line, 3, Token(3)).position, 3);

    EXPECT_EQ(Read(line, Token(2), 1).first, TokenLookup::kOthers);
    EXPECT_EQ(*Run(line.Leave(Token(2), 1)), TokenLookup::kOthers);
    EXPECT_EQ(Read(line, Token(42), 1).first, TokenLookup::kUnknown);
    EXPECT_FALSE(*Run(line.Use(Token(1), 1)));  // still waiting

    // One token a second at most, and the bucket fills only while someone waits.
    ASSERT_TRUE(Run(line.Configure(1, 0, false)));
    auto first = Run(line.Admit(QueueSettings{}, false));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->settings.admit_per_second, 1);
    EXPECT_EQ(first->waiting, 3);
    std::int64_t admitted = first->admitted;
    for (int i = 0; i < 30 && admitted == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto step = Run(line.Admit(QueueSettings{}, false));
        ASSERT_TRUE(step);
        admitted += step->admitted;
    }
    EXPECT_EQ(admitted, 1);
    auto head = Read(line, Token(1), 1);
    EXPECT_EQ(head.second.state, QueueState::kActive);
    EXPECT_EQ(Read(line, Token(2), 2).second.position, 1);  // moved forward
    EXPECT_TRUE(*Run(line.Use(Token(1), 1)));
    EXPECT_FALSE(*Run(line.Use(Token(1), 2)));  // not another user's
    auto stats = Run(line.Admit(QueueSettings{}, true));
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->active, 1);
    EXPECT_EQ(stats->waiting, 2);
    EXPECT_EQ(stats->admitted_last_minute, 1);

    ASSERT_TRUE(Run(line.Release(1)));  // paid
    EXPECT_EQ(Read(line, Token(1), 1).first, TokenLookup::kUnknown);
    EXPECT_TRUE(Join(line, 1, Token(4)).created);  // a new token, at the end
    EXPECT_EQ(Read(line, Token(4), 1).second.position, 3);
    EXPECT_EQ(*Run(line.Leave(Token(2), 2)), TokenLookup::kFound);
    EXPECT_EQ(Read(line, Token(3), 3).second.position, 1);
}

// Joins that arrive together go to Redis in batches (one script call for the joins one event
// loop turn has read): each is still decided on its own, in order — every new user gets its own
// place, and a user who appears twice in one batch keeps the token of its first join.
TEST_F(WaitingLineRedisTest, JoinsArrivingTogetherAreBatchedAndEachDecidedInOrder) {
    RedisWaitingLine line(client_, QueueTtls{});
    Must(MakeArgs("CONFIG", "RESETSTAT"));
    constexpr int kUsers = 300;
    // Join() keeps a reference to its token until it finishes: the tokens outlive the joins.
    std::vector<std::string> fresh;
    std::vector<std::int64_t> users;
    for (int u = 1; u <= kUsers; ++u) {
        fresh.push_back(Token(u));
        users.push_back(u);
        if (u == 7) {  // user 7 joins twice, a different fresh token each time, in one burst
            fresh.push_back(Token(9999));
            users.push_back(7);
        }
    }
    std::vector<std::future<Result<QueueTicket>>> joins;
    for (std::size_t i = 0; i < fresh.size(); ++i)
        joins.push_back(
            boost::asio::co_spawn(io_, line.Join(users[i], fresh[i]), boost::asio::use_future));
    std::vector<std::int64_t> positions;
    std::vector<QueueTicket> sevens;
    for (auto& f : joins) {
        auto t = f.get();
        ASSERT_TRUE(t) << t.error().message;
        if (t->user_id == 7) sevens.push_back(*t);
        if (t->created) positions.push_back(t->position);
    }
    std::sort(positions.begin(), positions.end());
    ASSERT_EQ(positions.size(), static_cast<std::size_t>(kUsers));
    for (int i = 0; i < kUsers; ++i) EXPECT_EQ(positions[i], i + 1);
    ASSERT_EQ(sevens.size(), 2u);
    EXPECT_EQ(sevens[0].token, sevens[1].token);
    EXPECT_NE(sevens[0].created, sevens[1].created);  // one created it, the other found it
    auto stats = Must(MakeArgs("INFO", "commandstats"));
    const auto at = stats.str.find("cmdstat_evalsha:calls=");
    ASSERT_NE(at, std::string::npos) << stats.str;
    const long calls = std::stol(stats.str.substr(at + 22));
    std::printf("%zu joins went to Redis in %ld script calls\n", joins.size(), calls);
    EXPECT_LT(calls, static_cast<long>(joins.size()));
}

TEST_F(WaitingLineRedisTest, TokensUnreadPastTheirTimeLeaveTheLine) {
    RedisWaitingLine line(client_, QueueTtls{.waiting_ms = 1000, .active_ms = 1000});
    Join(line, 1, Token(1));
    Join(line, 2, Token(2));
    Join(line, 3, Token(3));
    for (int i = 0; i < 3; ++i) {  // only user 3 keeps reading
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        Read(line, Token(3), 3);
    }
    auto swept = Run(line.Sweep(100));
    ASSERT_TRUE(swept);
    EXPECT_EQ(*swept, 2);
    EXPECT_EQ(Read(line, Token(3), 3).second.position, 1);
    EXPECT_EQ(Read(line, Token(1), 1).first, TokenLookup::kUnknown);
    EXPECT_TRUE(Join(line, 1, Token(11)).created);  // its user may join again
}

TEST_F(WaitingLineRedisTest, ReadsWithinTheGraceWriteNothingAndNoTokenLeavesBeforeItsTime) {
    // A waiting TTL of 60 s has a grace of 1 s: a read records itself at most once a second, and
    // a token lives until its recorded read + 61 s.
    RedisWaitingLine line(client_, QueueTtls{.waiting_ms = 60'000, .active_ms = 1000});
    const std::string seen = "queue:{queue}:seen";
    auto redis_now_ms = [&] {
        Reply t = Must(MakeArgs("TIME"));
        return std::stoll(t.elements.at(0).str) * 1000 + std::stoll(t.elements.at(1).str) / 1000;
    };
    auto recorded = [&](const std::string& token) {
        return std::stoll(Must(MakeArgs("ZSCORE", seen, token)).str);
    };
    const QueueTicket joined = Join(line, 1, Token(1));
    const std::int64_t at = recorded(Token(1));
    EXPECT_EQ(joined.expires_at, at + 61'000);
    // Read again at once: answered, nothing written.
    auto again = Read(line, Token(1), 1);
    EXPECT_EQ(again.second.expires_at, at + 61'000);
    EXPECT_EQ(recorded(Token(1)), at) << "a read within the grace records nothing";
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    auto later = Read(line, Token(1), 1);
    EXPECT_GE(recorded(Token(1)), at + 1000) << "a read past the grace is recorded";
    EXPECT_EQ(later.second.expires_at, recorded(Token(1)) + 61'000);
    // Unread for 60.5 s (past the TTL, within its grace): still in line; for 61.1 s: swept.
    Must(MakeArgs("ZADD", seen, "XX", std::to_string(redis_now_ms() - 60'500), Token(1)));
    auto kept = Run(line.Sweep(100));
    ASSERT_TRUE(kept);
    EXPECT_EQ(*kept, 0);
    Must(MakeArgs("ZADD", seen, "XX", std::to_string(redis_now_ms() - 61'100), Token(1)));
    auto swept = Run(line.Sweep(100));
    ASSERT_TRUE(swept);
    EXPECT_EQ(*swept, 1);
    EXPECT_EQ(Read(line, Token(1), 1).first, TokenLookup::kUnknown);
}

TEST_F(WaitingLineRedisTest, AMillionWaitingCostsLogNPerJoinAndPositionRead) {
    constexpr int kSeeded = 1'000'000, kProbes = 2000;
    // Seeded straight into the line's keys: what a million joins would have left.
    constexpr const char* kSeed = R"(
local from, to, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local line, seen, owner, users = {}, {}, {}, {}
for i = from, to do
  local t = string.format('%032d', i)
  line[#line + 1] = i; line[#line + 1] = t
  seen[#seen + 1] = now; seen[#seen + 1] = t
  owner[#owner + 1] = t; owner[#owner + 1] = i
  users[#users + 1] = i; users[#users + 1] = t
end
redis.call('ZADD', 'queue:{queue}:line', unpack(line))
redis.call('ZADD', 'queue:{queue}:seen', unpack(seen))
redis.call('HSET', 'queue:{queue}:owner', unpack(owner))
redis.call('HSET', 'queue:{queue}:users', unpack(users))
redis.call('SET', 'queue:{queue}:seq', to)
return to)";
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const auto seeding = steady_clock::now();
    for (int from = 1; from <= kSeeded; from += 2000)
        Must(MakeArgs("EVAL", kSeed, "0", std::to_string(from), std::to_string(from + 1999),
                      std::to_string(now)));
    std::printf("seeded %d waiting tokens in %.1f s\n", kSeeded,
                std::chrono::duration<double>(steady_clock::now() - seeding).count());

    RedisWaitingLine line(client_, QueueTtls{});
    auto time_us = [](auto&& fn) {
        const auto t0 = steady_clock::now();
        fn();
        return std::chrono::duration<double, std::micro>(steady_clock::now() - t0).count();
    };
    std::vector<double> joins, reads;
    for (int i = 1; i <= kProbes; ++i) {
        QueueTicket t;
        joins.push_back(time_us([&] { t = Join(line, kSeeded + i, Token(kSeeded + i)); }));
        ASSERT_EQ(t.position, kSeeded + i);
        const int probe = 1 + static_cast<int>((static_cast<long long>(i) * 499'979) % kSeeded);
        std::pair<TokenLookup, QueueTicket> r;
        reads.push_back(time_us([&] { r = Read(line, Token(probe), probe); }));
        ASSERT_EQ(r.first, TokenLookup::kFound);
        ASSERT_EQ(r.second.position, probe);
    }
    auto pct = [](std::vector<double> v, double p) {
        std::sort(v.begin(), v.end());
        return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))] / 1000.0;
    };
    std::printf(
        "with %d waiting: join p50 %.3f ms p99 %.3f ms; position read p50 %.3f ms p99 "
        "%.3f ms (%d each, one client, round trip included)\n",
        kSeeded, pct(joins, 0.5), pct(joins, 0.99), pct(reads, 0.5), pct(reads, 0.99), kProbes);
    auto stats = Run(line.Admit(QueueSettings{}, true));
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->waiting, kSeeded + kProbes);
}

}  // namespace
}  // namespace joopang::redis
