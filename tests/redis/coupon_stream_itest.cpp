// The coupon issue stream as the persister consumes it, against a real redis-server: trimming
// acknowledged entries must never remove one that any consumer group still needs.
#include <gtest/gtest.h>

#include <boost/asio/use_future.hpp>
#include <chrono>
#include <thread>

#include "infra/redis/client.hpp"
#include "infra/redis/coupon_codec.hpp"
#include "infra/redis/coupon_keys.hpp"
#include "infra/redis/redis_coupon_gate.hpp"
#include "infra/redis/redis_coupon_issue_queue.hpp"
#include "redis_test_support.hpp"

namespace joopang::redis {
namespace {

class CouponStreamTest : public testing::OneClientTest {
  protected:
    void SetUp() override {
        testing::OneClientTest::SetUp();
        gate_ = std::make_unique<RedisCouponGate>(client_, CouponGateSettings{0});
        queue_ = std::make_unique<RedisCouponIssueQueue>(client_);
    }

    /// A published template with `winners` coupons already won (one per user).
    void Drop(std::int64_t id, int winners) {
        CouponTemplate t;
        t.id = id;
        t.title = "trim";
        t.total_quantity = 1000;
        ASSERT_TRUE(Run(gate_->Publish(t, 0)));
        for (int u = 1; u <= winners; ++u) {
            auto d = Run(gate_->TryIssue(id, u));
            ASSERT_TRUE(d);
            ASSERT_EQ(d->kind, IssueDecision::Kind::kReserved);
        }
    }

    std::vector<IssueEntry> ReadNew(std::int64_t t, const std::string& consumer, int n) {
        auto r = Run(queue_->ReadNew(t, consumer, n));
        if (!r) throw std::runtime_error(r.error().message);
        return *r;
    }

    /// What the persister does after its commit.
    void Complete(std::int64_t t, const std::vector<IssueEntry>& entries) {
        std::vector<std::string> ids;
        std::vector<PersistedCoupon> persisted;
        for (const auto& e : entries) {
            if (ids.empty() || ids.back() != e.entry_id) ids.push_back(e.entry_id);
            persisted.push_back({e.coupon.request_id, e.coupon.position});
        }
        auto st = Run(queue_->Complete(t, ids, persisted, entries));
        ASSERT_TRUE(st) << st.error().message;
    }

    /// The ids left in the stream.
    std::vector<std::string> Left(std::int64_t t) {
        std::vector<std::string> ids;
        for (const auto& e : Must(MakeArgs("XRANGE", coupon_keys::Stream(t), "-", "+")).elements)
            ids.push_back(e.elements.at(0).str);
        return ids;
    }

    /// How often Redis ran `command` since the last CONFIG RESETSTAT.
    long long Calls(const std::string& command) {
        const std::string info = Must(MakeArgs("INFO", "commandstats")).str;
        const std::string name = "cmdstat_" + command + ":calls=";
        auto at = info.find(name);
        return at == std::string::npos ? 0 : std::stoll(info.substr(at + name.size()));
    }

    static std::vector<std::string> Ids(const std::vector<IssueEntry>& entries) {
        std::vector<std::string> ids;
        for (const auto& e : entries) ids.push_back(e.entry_id);
        return ids;
    }

    std::unique_ptr<RedisCouponGate> gate_;
    std::unique_ptr<RedisCouponIssueQueue> queue_;
};

TEST_F(CouponStreamTest, TrimmingKeepsPendingAndUnreadEntries) {
    Drop(7, 20);
    ASSERT_EQ(Left(7).size(), 20u);
    auto a = ReadNew(7, "A", 5);  // entries 1-5, pending at A
    auto b = ReadNew(7, "B", 5);  // entries 6-10, pending at B
    ASSERT_EQ(a.size(), 5u);
    ASSERT_EQ(b.size(), 5u);
    auto unread = Left(7);
    unread.erase(unread.begin(), unread.begin() + 10);

    // B finishes first: A's older entries are still pending, so nothing may go — not even B's.
    Complete(7, b);
    EXPECT_EQ(Left(7).size(), 20u);

    // Then A: everything up to the last delivered entry is acknowledged; the unread ten stay.
    Complete(7, a);
    EXPECT_EQ(Left(7), unread);

    // A pending entry of a consumer that died holds the trim back, whoever trims.
    auto dead = ReadNew(7, "dead", 2);
    auto live = ReadNew(7, "live", 3);
    Complete(7, live);
    EXPECT_EQ(Left(7), unread);
    Complete(7, dead);
    EXPECT_EQ(Left(7), std::vector<std::string>(unread.begin() + 5, unread.end()));
}

TEST_F(CouponStreamTest, TrimmingWaitsForEveryConsumerGroup) {
    Drop(8, 6);
    // Another group (an operator's audit reader) that has read only the first two entries.
    Must(MakeArgs("XGROUP", "CREATE", coupon_keys::Stream(8), "audit", "0"));
    auto read = Must(MakeArgs("XREADGROUP", "GROUP", "audit", "x", "COUNT", "2", "STREAMS",
                              coupon_keys::Stream(8), ">"));
    ASSERT_TRUE(read.IsArray());
    auto all = Left(8);

    auto mine = ReadNew(8, "A", 6);
    ASSERT_EQ(mine.size(), 6u);
    Complete(8, mine);
    EXPECT_EQ(Left(8), all);  // audit still has its two pending

    Must(MakeArgs("XACK", coupon_keys::Stream(8), "audit", all[0], all[1]));
    auto one_more = Run(gate_->TryIssue(8, 100));
    ASSERT_TRUE(one_more);
    auto next = ReadNew(8, "A", 1);
    Complete(8, next);
    // audit has read two and acknowledged them: those two go; what it has not read stays.
    auto left = Left(8);
    ASSERT_EQ(left.size(), all.size() - 2 + 1);
    EXPECT_EQ(left.front(), all[2]);
}

TEST_F(CouponStreamTest, ReclaimLeavesLiveHoldersAloneAndSweepsADeadOneInBoundedSteps) {
    // XAUTOCLAIM looks up every pending entry it scans, so a sweep over a drop's fresh pending
    // list stalled Redis for milliseconds. Reclaim runs it only when some holder has stopped
    // reading, and then claims at most 100 entries per call.
    Drop(17, 250);
    const auto all = Left(17);
    ASSERT_EQ(ReadNew(17, "A", 1000).size(), 250u);
    Must(MakeArgs("CONFIG", "RESETSTAT"));

    auto live = Run(queue_->Reclaim(17, "B", 300, 2000));
    ASSERT_TRUE(live) << live.error().message;
    EXPECT_TRUE(live->empty());
    EXPECT_EQ(Calls("xautoclaim"), 0) << "A has just read: nothing to sweep for";

    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // A has stopped reading
    auto claimed = Run(queue_->Reclaim(17, "B", 300, 2000));
    ASSERT_TRUE(claimed) << claimed.error().message;
    EXPECT_EQ(Ids(*claimed), all);
    EXPECT_EQ(Calls("xautoclaim"), 3) << "100 + 100 + 50";
    auto mine = Run(queue_->ReadPending(17, "B", 1000));
    ASSERT_TRUE(mine) << mine.error().message;
    EXPECT_EQ(Ids(*mine), all);
    auto theirs = Run(queue_->ReadPending(17, "A", 1000));
    ASSERT_TRUE(theirs) << theirs.error().message;
    EXPECT_TRUE(theirs->empty());

    // A count below one step claims just that many.
    Complete(17, *claimed);
    Drop(18, 30);
    ASSERT_EQ(ReadNew(18, "A", 1000).size(), 30u);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto few = Run(queue_->Reclaim(18, "B", 300, 20));
    ASSERT_TRUE(few) << few.error().message;
    EXPECT_EQ(few->size(), 20u);
}

TEST_F(CouponStreamTest, ABatchLargerThanOneRedisReadComesWholeInOrderAndOnce) {
    // The persister reads and acknowledges in commands of at most 500 entries (Redis runs each
    // command whole); a database batch of more must still see every entry once, in order —
    // new ones and, after a crash, its own pending ones, which are re-read from an id.
    CouponTemplate t;
    t.id = 9;
    t.title = "chunks";
    t.total_quantity = 1300;
    ASSERT_TRUE(Run(gate_->Publish(t, 0)));
    for (int u = 1; u <= 1200; ++u) ASSERT_TRUE(Run(gate_->TryIssue(9, u)));
    const auto all = Left(9);
    ASSERT_EQ(all.size(), 1200u);

    auto first = ReadNew(9, "A", 1100);
    EXPECT_EQ(Ids(first), std::vector<std::string>(all.begin(), all.begin() + 1100));
    auto pending = Run(queue_->ReadPending(9, "A", 1100));
    ASSERT_TRUE(pending) << pending.error().message;
    EXPECT_EQ(Ids(*pending), Ids(first));
    auto part = Run(queue_->ReadPending(9, "A", 700));
    ASSERT_TRUE(part) << part.error().message;
    EXPECT_EQ(Ids(*part), std::vector<std::string>(all.begin(), all.begin() + 700));
    auto rest = ReadNew(9, "A", 1100);  // only 100 left
    EXPECT_EQ(Ids(rest), std::vector<std::string>(all.begin() + 1100, all.end()));

    Complete(9, first);
    Complete(9, rest);
    EXPECT_TRUE(Left(9).empty());
    auto none = Run(queue_->ReadPending(9, "A", 1100));
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST_F(CouponStreamTest, EntriesOfManyWinsAreReadAsWinsAboutAsManyAsAsked) {
    // An entry carries all the wins of one script call; the persister's count is in wins.
    Drop(23, 0);
    std::vector<std::string> ids;
    for (int e = 0; e < 10; ++e) {
        std::string wins;
        for (int k = 0; k < 50; ++k) {
            if (k > 0) wins += ',';
            wins += std::to_string(e * 50 + k + 1);
            wins += ":1";
        }
        ids.push_back(Must(MakeArgs("XADD", coupon_keys::Stream(23), "*", "p",
                                    std::to_string(e * 50 + 1), "w", wins))
                          .str);
    }
    auto first = ReadNew(23, "A", 120);
    // Whole entries only: at least the 120 asked for, not every entry at once.
    EXPECT_GE(first.size(), 120u);
    EXPECT_LE(first.size(), 200u);
    ASSERT_EQ(first.size() % 50, 0u);
    for (std::size_t i = 0; i < first.size(); ++i) {
        const auto& c = first[i].coupon;
        EXPECT_EQ(first[i].entry_id, ids[i / 50]);
        EXPECT_EQ(c.user_id, static_cast<std::int64_t>(i + 1));
        EXPECT_EQ(c.position, static_cast<std::int64_t>(i + 1));
        EXPECT_EQ(c.seq, 1);
        EXPECT_EQ(c.request_id, coupon_codec::RequestIdOf(ids[i / 50], i % 50));
    }
    auto rest = ReadNew(23, "A", 2000);
    EXPECT_EQ(first.size() + rest.size(), 500u);
    Complete(23, first);
    Complete(23, rest);
    EXPECT_TRUE(Left(23).empty());
}

TEST_F(CouponStreamTest, AMalformedEntryIsDeadLetteredWholeWithItsFields) {
    Drop(24, 0);
    const std::string stream = coupon_keys::Stream(24);
    const std::string bad = Must(MakeArgs("XADD", stream, "*", "p", "1", "w", "5:1,oops")).str;
    const std::string good = Must(MakeArgs("XADD", stream, "*", "p", "2", "w", "6:1,7:1")).str;
    auto read = ReadNew(24, "A", 10);
    ASSERT_EQ(read.size(), 3u);
    EXPECT_TRUE(read[0].malformed);
    EXPECT_EQ(read[0].entry_id, bad);
    EXPECT_EQ(read[0].raw_fields,
              (std::vector<std::pair<std::string, std::string>>{{"p", "1"}, {"w", "5:1,oops"}}));
    EXPECT_FALSE(read[1].malformed);
    EXPECT_EQ(std::pair(read[1].coupon.user_id, read[1].coupon.position), std::pair(6L, 2L));
    EXPECT_EQ(std::pair(read[2].coupon.user_id, read[2].coupon.position), std::pair(7L, 3L));

    ASSERT_TRUE(Run(queue_->DeadLetter(24, read[0], "malformed entry")));
    EXPECT_EQ(Left(24), std::vector<std::string>{good});
    auto dead = Must(MakeArgs("XRANGE", coupon_keys::DeadLetters(24), "-", "+"));
    ASSERT_EQ(dead.elements.size(), 1u);
    std::vector<std::string> fields;
    for (const auto& f : dead.elements[0].elements.at(1).elements) fields.push_back(f.str);
    EXPECT_EQ(fields, (std::vector<std::string>{"p", "1", "w", "5:1,oops", "source", bad, "error",
                                                "malformed entry"}));
    auto pending = Must(MakeArgs("XPENDING", stream, coupon_keys::kGroup));
    EXPECT_EQ(pending.elements.at(0).integer, 1) << "the good entry is still pending";
}

TEST_F(CouponStreamTest, AWinIsDeadLetteredOnceAndItsRequestReadsFailed) {
    // After a crash between dead-lettering a win and acknowledging its entry, the entry comes
    // back and its win fails again: the dead letter must not be added twice.
    Drop(25, 2);
    auto read = ReadNew(25, "A", 10);
    ASSERT_EQ(read.size(), 2u);
    ASSERT_TRUE(Run(queue_->DeadLetter(25, read[0], "poison")));
    ASSERT_TRUE(Run(queue_->DeadLetter(25, read[0], "poison")));
    EXPECT_EQ(Must(MakeArgs("XLEN", coupon_keys::DeadLetters(25))).integer, 1);
    EXPECT_EQ(Must(MakeArgs("HGET", coupon_keys::Meta(25), "dead")).str, "1");
    auto st = Run(gate_->FindRequest(25, read[0].coupon.request_id));
    ASSERT_TRUE(st && *st);
    EXPECT_EQ((*st)->kind, IssueRequestState::Kind::kFailed);
    EXPECT_EQ((*st)->position, read[0].coupon.position);
    // The entry waits for Complete; the other win is still RESERVED.
    EXPECT_EQ(Left(25).size(), 2u);
    auto other = Run(gate_->FindRequest(25, read[1].coupon.request_id));
    ASSERT_TRUE(other && *other);
    EXPECT_EQ((*other)->kind, IssueRequestState::Kind::kReserved);
}

TEST_F(CouponStreamTest, WinsWaitingCountsTheWinsOfEveryEntryNotTheEntries) {
    Drop(27, 0);
    const std::string stream = coupon_keys::Stream(27);
    for (int i = 0; i < 1200; ++i)  // past one XRANGE step: 1,200 entries of three wins
        Must(MakeArgs("XADD", stream, "*", "p", std::to_string(3 * i + 1), "w", "5:1,6:1,7:1"));
    Must(MakeArgs("XADD", stream, "*", "u", "8", "s", "1", "p", "3601", "t", "1", "r", "1"));
    auto waiting = Run(queue_->WinsWaiting(27));
    ASSERT_TRUE(waiting) << waiting.error().message;
    EXPECT_EQ(*waiting, 3601);
    auto none = Run(queue_->WinsWaiting(28));  // no stream at all
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_EQ(*none, 0);
}

TEST_F(CouponStreamTest, AnAcknowledgedEntryTheTrimHasNotReachedNeitherWaitsNorAnswers) {
    // Two entries delivered; only the second lands. It is acknowledged but stays in the stream
    // (the trim stops at the first, still pending): its win is the database's to answer, and
    // counts as waiting no more.
    Drop(29, 0);
    const std::string stream = coupon_keys::Stream(29);
    Must(MakeArgs("XADD", stream, "*", "p", "1", "w", "5:1,6:1"));
    const std::string second = Must(MakeArgs("XADD", stream, "*", "p", "3", "w", "7:1")).str;
    Must(MakeArgs("XADD", stream, "*", "p", "4", "w", "8:1"));  // not delivered yet
    Must(MakeArgs("XREADGROUP", "GROUP", coupon_keys::kGroup, "A", "COUNT", "2", "STREAMS", stream,
                  ">"));  // the first two entries delivered to consumer A
    auto pending = Run(queue_->ReadPending(29, "A", 10));
    ASSERT_TRUE(pending) << pending.error().message;
    const std::vector<IssueEntry>& wins = *pending;
    ASSERT_EQ(wins.size(), 3u);
    std::vector<IssueEntry> landed{wins[2]};
    std::vector<PersistedCoupon> ids{{wins[2].coupon.request_id, 903}};
    ASSERT_TRUE(Run(queue_->Complete(29, {second}, ids, landed)));
    EXPECT_EQ(Left(29).size(), 3u) << "the trim stops at the pending first entry";
    auto waiting = Run(queue_->WinsWaiting(29));
    ASSERT_TRUE(waiting) << waiting.error().message;
    EXPECT_EQ(*waiting, 3) << "two pending wins and one not delivered";
    auto landed_state = Run(gate_->FindRequest(29, wins[2].coupon.request_id));
    ASSERT_TRUE(landed_state);
    EXPECT_FALSE(*landed_state) << "acknowledged: Redis no longer answers for it";
    auto still = Run(gate_->FindRequest(29, wins[0].coupon.request_id));
    ASSERT_TRUE(still && *still);
    EXPECT_EQ((*still)->kind, IssueRequestState::Kind::kReserved);
}

TEST_F(CouponStreamTest, RedisAnswersForAWinUntilItsEntryIsAcknowledged) {
    // Wins 0 and 2 of an entry land, win 1 waits for a retry and is then dead-lettered. Redis
    // answers for each win while its entry is in the stream; once acknowledged, a persisted win
    // is the database's to answer (CouponService::RequestStatus) and Redis keeps nothing of it,
    // while a dead-lettered one keeps its state.
    Drop(26, 0);
    const std::string id =
        Must(MakeArgs("XADD", coupon_keys::Stream(26), "*", "p", "41", "w", "5:1,6:1,7:2")).str;
    auto wins = ReadNew(26, "A", 10);
    ASSERT_EQ(wins.size(), 3u);
    auto state = [&](std::size_t k) {
        auto st = Run(gate_->FindRequest(26, coupon_codec::RequestIdOf(id, k)));
        if (!st) throw std::runtime_error(st.error().message);
        if (!*st) return std::string("none");
        const auto& s = **st;
        return std::string(s.kind == IssueRequestState::Kind::kIssued   ? "I"
                           : s.kind == IssueRequestState::Kind::kFailed ? "F"
                                                                        : "R") +
               ":" + std::to_string(s.user_id) + ":" + std::to_string(s.position);
    };
    EXPECT_EQ(state(1), "R:6:42");
    std::vector<IssueEntry> landed{wins[0], wins[2]};
    std::vector<PersistedCoupon> ids{{wins[0].coupon.request_id, 900},
                                     {wins[2].coupon.request_id, 902}};
    ASSERT_TRUE(Run(queue_->Complete(26, {}, ids, landed)));  // the entry waits for win 1
    EXPECT_EQ(state(0), "R:5:41");
    EXPECT_EQ(state(1), "R:6:42");
    EXPECT_EQ(state(2), "R:7:43");
    ASSERT_TRUE(Run(queue_->DeadLetter(26, wins[1], "poison")));
    ASSERT_TRUE(Run(queue_->Complete(26, {id}, ids, landed)));  // redelivered, then settled
    EXPECT_TRUE(Left(26).empty());
    EXPECT_EQ(state(0), "none");
    EXPECT_EQ(state(1), "F:6:42");
    EXPECT_EQ(state(2), "none");
    EXPECT_EQ(state(3), "none");
    // Only the dead letter's state is kept.
    EXPECT_EQ(Must(MakeArgs("HLEN", coupon_keys::Requests(26))).integer, 1);
    // Replayed, it is RESERVED by a state of its own, which its persisting drops.
    auto replayed = Run(queue_->Replay(coupon_keys::Stream(26)));
    ASSERT_TRUE(replayed && *replayed == 1);
    EXPECT_EQ(state(1), "R:6:42");
    auto again = ReadNew(26, "A", 10);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].coupon.request_id, wins[1].coupon.request_id);
    std::vector<PersistedCoupon> again_ids{{again[0].coupon.request_id, 901}};
    ASSERT_TRUE(Run(queue_->Complete(26, {again[0].entry_id}, again_ids, again)));
    EXPECT_EQ(state(1), "none");
    EXPECT_EQ(Must(MakeArgs("EXISTS", coupon_keys::Requests(26))).integer, 0);
}

}  // namespace
}  // namespace joopang::redis
