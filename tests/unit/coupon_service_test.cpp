// CouponService with in-memory fakes of its ports: how each issue decision is answered, a
// template saved while Redis is down, reconciliation's arithmetic and its repair, and a user's
// coupons for an unknown user.

#include "app/coupon_service.hpp"

#include <gtest/gtest.h>

#include <map>

#include "async_test_support.hpp"
#include "coupon_fakes.hpp"

namespace joopang {
namespace {
namespace asio = boost::asio;
using namespace test_fakes;

class CouponServiceTest : public testing::Test {
  protected:
    /// Runs a coroutine of the service to its end on an event loop of its own.
    template <class T>
    T Run(asio::awaitable<T> coro) {
        return test_support::RunToEnd(std::move(coro));
    }

    CouponTemplate Template(std::int64_t total) {
        CouponTemplate t;
        t.title = "t";
        t.terms.value = Money::FromCents(100);
        t.total_quantity = total;
        return t;
    }

    FakeGate gate;
    FakeQueue queue;
    FakeCoupons repo;
    FakeUsers users;
    BlockingPool pool{1};
    CouponService service{repo, users, gate, queue, pool, CouponSettings{1000}};
    RequestTiming timing;
};

TEST_F(CouponServiceTest, EachIssueDecisionHasItsAnswer) {
    using Kind = IssueDecision::Kind;
    gate.next = {Kind::kReserved, 77, 5, 95, 3000, 0};
    auto won = Run(service.Issue(1, 9, timing));
    ASSERT_TRUE(won);
    EXPECT_EQ(won->request_id, 77);
    EXPECT_EQ(won->position, 5);
    EXPECT_EQ(won->remaining, 95);
    EXPECT_EQ(won->estimated_persist_ms, 20 + 3000 * 1000 / 1000) << "backlog at 1000 rows/s";

    const std::pair<Kind, ErrorCode> losses[] = {
        {Kind::kAlreadyIssued, ErrorCode::kCouponAlreadyIssued},
        {Kind::kSoldOut, ErrorCode::kCouponSoldOut},
        {Kind::kNotActive, ErrorCode::kCouponNotActive},
        {Kind::kUnknownTemplate, ErrorCode::kCouponTemplateNotFound},
        {Kind::kRateLimited, ErrorCode::kRateLimited},
    };
    for (auto [kind, code] : losses) {
        gate.next = {kind, 0, 0, 0, 0, 1500};
        auto lost = Run(service.Issue(1, 9, timing));
        ASSERT_FALSE(lost);
        EXPECT_EQ(lost.error().code, code);
    }
    EXPECT_EQ(Run(service.Issue(1, 9, timing)).error().retry_after_s, 2) << "1.5 s rounds up";
}

TEST_F(CouponServiceTest, ATemplateIsSavedEvenWhileRedisIsDown) {
    gate.publish_fails = true;
    auto created = Run(service.CreateTemplate(Template(10), timing));
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_EQ(created->remaining, 10);
    EXPECT_EQ(repo.templates.size(), 1u);
    EXPECT_TRUE(gate.published.empty());
    gate.publish_fails = false;
    ASSERT_TRUE(Run(service.SyncTemplates()));  // the sync job publishes it later
    EXPECT_EQ(gate.published, std::vector<std::int64_t>{created->tmpl.id});
}

TEST_F(CouponServiceTest, ReconciliationCountsEveryWinnerPersistedInTheStreamOrDeadLettered) {
    auto t = *repo.CreateTemplate(Template(100));
    gate.counters[t.id] = {.known = true, .has_seq = true, .reserved = 100, .stock = 0};
    repo.rows[t.id] = 80;
    queue.dead[t.id] = 5;
    queue.waiting[t.id] = 10;  // wins, in fewer entries: one carries a whole issue call's
    auto report = Run(service.Reconcile(false));
    ASSERT_TRUE(report);
    ASSERT_EQ(report->templates.size(), 1u);
    const auto& line = report->templates[0];
    EXPECT_EQ(line.in_stream, 10);
    EXPECT_EQ(line.dead_letters, 5);
    EXPECT_EQ(line.missing_in_database, 5);  // 100 - 80 - 10 - 5
    EXPECT_EQ(line.differences.size(), 2u);  // dead letters, and winners missing
    EXPECT_TRUE(gate.restores.empty()) << "no repair unless asked";
    EXPECT_TRUE(service.LastReport().has_value());
}

TEST_F(CouponServiceTest, RepairRestoresCountersRedisLostFromTheDatabase) {
    auto t = *repo.CreateTemplate(Template(100));
    gate.counters[t.id] = {};  // Redis lost everything
    repo.rows[t.id] = 2;
    auto report = Run(service.Reconcile(true));
    ASSERT_TRUE(report);
    ASSERT_EQ(gate.restores.size(), 1u);
    EXPECT_EQ(gate.restores[0].reserved, 2) << "the database's count, as Redis has none";
    EXPECT_EQ(gate.restores[0].users, 2u);
    EXPECT_EQ(report->templates[0].repairs.size(), 1u);
}

TEST_F(CouponServiceTest, AnUnknownUserHasNoCouponsButANotFound) {
    auto r = Run(service.UserCoupons(404, timing));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUserNotFound);
}

}  // namespace
}  // namespace joopang
