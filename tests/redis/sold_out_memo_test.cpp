// SoldOutMemo: when a sold-out template's answers may be given from memory, and when not.
#include "infra/redis/sold_out_memo.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace joopang::redis {
namespace {

using Kind = IssueDecision::Kind;
using Clock = SoldOutMemo::Clock;
using std::chrono::milliseconds;

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);

Result<IssueDecision> Answer(Kind kind, std::int64_t retry_after_ms = 0) {
    IssueDecision d;
    d.kind = kind;
    d.retry_after_ms = retry_after_ms;
    return d;
}

SoldOutMemo Memo(std::int64_t rate_limit = 0, std::size_t max_users = 1000) {
    return SoldOutMemo({milliseconds(100), rate_limit, max_users});
}

/// Learns one call's answers: users[i] heard answers[i].
void Learn(SoldOutMemo& m,
           Clock::time_point sent,
           std::int64_t generation,
           const std::vector<std::int64_t>& users,
           const std::vector<Result<IssueDecision>>& answers,
           std::uint64_t epoch = 0) {
    m.Learn(sent, epoch, generation, users, answers);
}

std::optional<Kind> KindOf(SoldOutMemo& m,
                           std::int64_t user,
                           Clock::time_point now,
                           std::uint64_t epoch = 0) {
    auto d = m.Answer(user, now, epoch);
    if (!d) return std::nullopt;
    return d->kind;
}

TEST(SoldOutMemo, KnowsNothingBeforeASoldOutCall) {
    auto m = Memo();
    EXPECT_FALSE(KindOf(m, 1, t0));
    Learn(m, t0, -1, {1}, {Answer(Kind::kSoldOut)});  // a call that ended with stock left
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(1)));
}

TEST(SoldOutMemo, AnswersTheUsersASoldOutCallAnswered) {
    auto m = Memo();
    Learn(m, t0, 0, {1, 2, 3, 4},
          {Answer(Kind::kAlreadyIssued), Answer(Kind::kSoldOut), Answer(Kind::kReserved),
           Error::Unavailable("x")});
    EXPECT_EQ(KindOf(m, 1, t0 + milliseconds(10)), Kind::kAlreadyIssued);
    EXPECT_EQ(KindOf(m, 2, t0 + milliseconds(10)), Kind::kSoldOut);
    EXPECT_FALSE(KindOf(m, 3, t0 + milliseconds(10)));  // a winner: its count just changed
    EXPECT_FALSE(KindOf(m, 4, t0 + milliseconds(10)));  // no answer learned
    EXPECT_FALSE(KindOf(m, 5, t0 + milliseconds(10)));  // never heard of
    EXPECT_EQ(m.users(), 2u);
}

TEST(SoldOutMemo, ALaterAnswerReplacesAnEarlierOne) {
    auto m = Memo();
    Learn(m, t0, 0, {1}, {Answer(Kind::kSoldOut)});
    Learn(m, t0 + milliseconds(1), 0, {1}, {Answer(Kind::kAlreadyIssued)});
    EXPECT_EQ(KindOf(m, 1, t0 + milliseconds(2)), Kind::kAlreadyIssued);
}

TEST(SoldOutMemo, ForgetsOnceTheTtlHasPassedSinceTheLastSoldOutCallWasSent) {
    auto m = Memo();
    Learn(m, t0, 0, {1}, {Answer(Kind::kSoldOut)});
    EXPECT_EQ(KindOf(m, 1, t0 + milliseconds(49)), Kind::kSoldOut);
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(100)));
    // A sold-out call sent later renews every remembered answer.
    Learn(m, t0 + milliseconds(120), 0, {2}, {Answer(Kind::kSoldOut)});
    EXPECT_EQ(KindOf(m, 1, t0 + milliseconds(130)), Kind::kSoldOut);
}

TEST(SoldOutMemo, ACallThatFoundStockForgetsAndOutranksOlderSoldOutReplies) {
    auto m = Memo();
    Learn(m, t0, 0, {1}, {Answer(Kind::kSoldOut)});
    Learn(m, t0 + milliseconds(10), -1, {2}, {Answer(Kind::kReserved)});
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(11)));
    // The reply of a call sent before that one, arriving after it, is stale.
    Learn(m, t0 + milliseconds(5), 0, {1}, {Answer(Kind::kSoldOut)});
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(12)));
    // A call sent after it is not.
    Learn(m, t0 + milliseconds(15), 0, {1}, {Answer(Kind::kSoldOut)});
    EXPECT_EQ(KindOf(m, 1, t0 + milliseconds(16)), Kind::kSoldOut);
}

TEST(SoldOutMemo, ANewGenerationForgetsAnswersOfTheOldOne) {
    auto m = Memo();
    Learn(m, t0, 0, {1}, {Answer(Kind::kSoldOut)});
    // Counters were restored and the stock sold out again: user 1 may have won meanwhile.
    Learn(m, t0 + milliseconds(10), 1, {2}, {Answer(Kind::kSoldOut)});
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(11)));
    EXPECT_EQ(KindOf(m, 2, t0 + milliseconds(11)), Kind::kSoldOut);
    // A late reply from the old generation teaches nothing.
    Learn(m, t0 + milliseconds(12), 0, {3}, {Answer(Kind::kSoldOut)});
    EXPECT_FALSE(KindOf(m, 3, t0 + milliseconds(13)));
}

TEST(SoldOutMemo, AMovedProcessEpochStopsAnswersAtOnce) {
    auto m = Memo();
    Learn(m, t0, 0, {1}, {Answer(Kind::kSoldOut)}, /*epoch=*/0);
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(1), /*epoch=*/1));
    // A reply to a call sent before the change cannot bring the memo back.
    Learn(m, t0 + milliseconds(2), 0, {1}, {Answer(Kind::kSoldOut)}, /*epoch=*/0);
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(3), /*epoch=*/1));
    // A call sent after it does, with only what it answered.
    Learn(m, t0 + milliseconds(4), 0, {2}, {Answer(Kind::kSoldOut)}, /*epoch=*/1);
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(5), /*epoch=*/1));
    EXPECT_EQ(KindOf(m, 2, t0 + milliseconds(5), /*epoch=*/1), Kind::kSoldOut);
}

TEST(SoldOutMemo, PastHalfItsTtlSendsOneRequestPerHalfToRedis) {
    auto m = Memo();  // ttl 100 ms
    Learn(m, t0, 0, {1, 2}, {Answer(Kind::kSoldOut), Answer(Kind::kSoldOut)});
    EXPECT_EQ(KindOf(m, 1, t0 + milliseconds(49)), Kind::kSoldOut);
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(50)));  // this one renews
    EXPECT_EQ(KindOf(m, 2, t0 + milliseconds(51)), Kind::kSoldOut);
    EXPECT_EQ(KindOf(m, 1, t0 + milliseconds(99)), Kind::kSoldOut);
    EXPECT_FALSE(KindOf(m, 1, t0 + milliseconds(100)));  // expired: the renewal never came back
    // The renewal's answer extends it; the next renewal is due half a ttl after the last one.
    Learn(m, t0 + milliseconds(60), 0, {1}, {Answer(Kind::kSoldOut)});
    EXPECT_EQ(KindOf(m, 2, t0 + milliseconds(100)), Kind::kSoldOut);
    EXPECT_FALSE(KindOf(m, 2, t0 + milliseconds(110)));
    EXPECT_EQ(KindOf(m, 2, t0 + milliseconds(111)), Kind::kSoldOut);
}

TEST(SoldOutMemo, CountsItsAnswersAgainstTheRateLimit) {
    auto m = Memo(/*rate_limit=*/3);
    Learn(m, t0, 0, {1}, {Answer(Kind::kSoldOut)});
    const auto now = t0 + milliseconds(10);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(KindOf(m, 1, now), Kind::kSoldOut) << i;
    auto limited = m.Answer(1, now, 0);
    ASSERT_TRUE(limited);
    EXPECT_EQ(limited->kind, Kind::kRateLimited);
    EXPECT_EQ(limited->retry_after_ms, 1000);
    // A new window one second after its first request (renewed meanwhile so the memo holds).
    Learn(m, t0 + milliseconds(990), 0, {2}, {Answer(Kind::kSoldOut)});
    EXPECT_EQ(KindOf(m, 1, t0 + milliseconds(1010)), Kind::kSoldOut);
}

TEST(SoldOutMemo, AUserRedisRateLimitedStaysLimitedForTheRestOfItsWindow) {
    auto m = Memo(/*rate_limit=*/3);
    Learn(m, t0, 0, {1}, {Answer(Kind::kSoldOut)});
    Learn(m, t0 + milliseconds(10), 0, {1}, {Answer(Kind::kRateLimited, 400)});
    auto d = m.Answer(1, t0 + milliseconds(20), 0);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->kind, Kind::kRateLimited);
    EXPECT_EQ(d->retry_after_ms, 390);
}

std::shared_ptr<const SoldOutMemo::Roster> RosterOf(std::initializer_list<std::int64_t> users) {
    return std::make_shared<const SoldOutMemo::Roster>(users);
}

TEST(SoldOutMemo, WithARosterAnswersUsersItNeverHeardOf) {
    auto m = Memo();
    Learn(m, t0, 3, {1}, {Answer(Kind::kSoldOut)});
    EXPECT_FALSE(KindOf(m, 7, t0 + milliseconds(1)));
    m.SetRoster(3, RosterOf({7, 8}));
    EXPECT_EQ(KindOf(m, 7, t0 + milliseconds(1)), Kind::kAlreadyIssued);
    EXPECT_EQ(KindOf(m, 9, t0 + milliseconds(1)), Kind::kSoldOut);
    EXPECT_EQ(KindOf(m, 1, t0 + milliseconds(1)), Kind::kSoldOut);
    // Only while the memo holds: not past its time.
    EXPECT_FALSE(KindOf(m, 10, t0 + milliseconds(100)));
}

TEST(SoldOutMemo, ARosterOfAnotherGenerationIsIgnoredAndANewGenerationDropsIt) {
    auto m = Memo();
    Learn(m, t0, 3, {1}, {Answer(Kind::kSoldOut)});
    m.SetRoster(2, RosterOf({7}));
    EXPECT_FALSE(KindOf(m, 7, t0 + milliseconds(1)));
    m.SetRoster(3, RosterOf({7}));
    EXPECT_EQ(KindOf(m, 8, t0 + milliseconds(1)), Kind::kSoldOut);
    Learn(m, t0 + milliseconds(2), 4, {1}, {Answer(Kind::kSoldOut)});
    EXPECT_FALSE(KindOf(m, 9, t0 + milliseconds(3)));  // generation 4 has no roster yet
    // Nor does a call that found stock leave one behind.
    m.SetRoster(4, RosterOf({7}));
    Learn(m, t0 + milliseconds(4), -1, {1}, {Answer(Kind::kReserved)});
    Learn(m, t0 + milliseconds(5), 4, {1}, {Answer(Kind::kAlreadyIssued)});
    EXPECT_FALSE(KindOf(m, 10, t0 + milliseconds(6)));
}

TEST(SoldOutMemo, IsUnusedOnceIdlePastItsTime) {
    auto m = Memo();                               // ttl 100 ms
    EXPECT_TRUE(m.Unused(t0, milliseconds(500)));  // never confirmed
    Learn(m, t0, 0, {1}, {Answer(Kind::kSoldOut)});
    EXPECT_FALSE(m.Unused(t0 + milliseconds(599), milliseconds(500)));
    EXPECT_TRUE(m.Unused(t0 + milliseconds(600), milliseconds(500)));
    Learn(m, t0 + milliseconds(700), -1, {1}, {Answer(Kind::kReserved)});  // stock again
    EXPECT_TRUE(m.Unused(t0 + milliseconds(701), milliseconds(500)));
}

TEST(SoldOutMemo, RemembersAtMostMaxUsers) {
    auto m = Memo(0, /*max_users=*/2);
    Learn(m, t0, 0, {1, 2, 3},
          {Answer(Kind::kSoldOut), Answer(Kind::kSoldOut), Answer(Kind::kSoldOut)});
    EXPECT_EQ(m.users(), 2u);
    EXPECT_FALSE(KindOf(m, 3, t0 + milliseconds(1)));  // asks Redis, every time
}

}  // namespace
}  // namespace joopang::redis
