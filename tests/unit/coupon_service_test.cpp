// CouponService with in-memory fakes of its ports: how each issue decision is answered, a
// template saved while Redis is down, reconciliation's arithmetic and its repair, and a user's
// coupons for an unknown user.

#include "app/coupon_service.hpp"

#include <gtest/gtest.h>

#include <map>

#include "async_test_support.hpp"

namespace joopang {
namespace {
namespace asio = boost::asio;

Error Unused() { return Error::Internal("not used by this test"); }

/// The Redis side: scripted decisions and counters; records publishes and restores.
class FakeGate final : public CouponGate {
  public:
    IssueDecision next;
    bool publish_fails = false;
    std::vector<std::int64_t> published;
    std::map<std::int64_t, TemplateCounters> counters;
    struct RestoreCall {
        std::int64_t template_id;
        std::int64_t reserved;
        std::size_t users;
    };
    std::vector<RestoreCall> restores;

    asio::awaitable<Result<IssueDecision>> TryIssue(std::int64_t, std::int64_t) override {
        co_return next;
    }
    asio::awaitable<Status> Publish(const CouponTemplate& t, std::int64_t) override {
        if (publish_fails) co_return Error::Unavailable("redis down");
        published.push_back(t.id);
        co_return Status{};
    }
    asio::awaitable<Result<std::optional<IssueRequestState>>> FindRequest(std::int64_t,
                                                                          std::int64_t) override {
        co_return std::optional<IssueRequestState>{};
    }
    asio::awaitable<Result<TemplateCounters>> Counters(std::int64_t t) override {
        co_return counters[t];
    }
    asio::awaitable<Result<std::vector<DropKey>>> Footprint(std::int64_t) override {
        co_return std::vector<DropKey>{};
    }
    asio::awaitable<Result<bool>> Restore(
        const CouponTemplate& t,
        const TemplateCounters&,
        std::int64_t reserved,
        const std::vector<std::pair<std::int64_t, std::int64_t>>& users) override {
        restores.push_back({t.id, reserved, users.size()});
        co_return true;
    }
};

/// Only Stats() and WinsWaiting() are used by the service (reconciliation).
class FakeQueue final : public CouponIssueQueue {
  public:
    std::vector<StreamStats> stats;
    std::map<std::int64_t, std::int64_t> waiting;  // wins in the stream, by template
    Awaitable<Result<std::int64_t>> WinsWaiting(std::int64_t t) override { co_return waiting[t]; }
    std::string StreamName(std::int64_t key) const override { return "s" + std::to_string(key); }
    Awaitable<Result<std::vector<std::int64_t>>> Streams() override { co_return Unused(); }
    Awaitable<Status> EnsureGroup(std::int64_t) override { co_return Unused(); }
    Awaitable<Result<std::vector<IssueEntry>>> ReadPending(std::int64_t,
                                                           const std::string&,
                                                           int) override {
        co_return Unused();
    }
    Awaitable<Result<std::vector<IssueEntry>>> ReadNew(std::int64_t,
                                                       const std::string&,
                                                       int) override {
        co_return Unused();
    }
    Awaitable<Result<std::vector<IssueEntry>>> Reclaim(std::int64_t,
                                                       const std::string&,
                                                       std::int64_t,
                                                       int) override {
        co_return Unused();
    }
    Awaitable<Status> Complete(std::int64_t,
                               const std::vector<std::string>&,
                               const std::vector<PersistedCoupon>&,
                               const std::vector<IssueEntry>&) override {
        co_return Unused();
    }
    Awaitable<Result<std::int64_t>> RecordFailure(std::int64_t, const IssueEntry&) override {
        co_return Unused();
    }
    Awaitable<Status> DeadLetter(std::int64_t, const IssueEntry&, const std::string&) override {
        co_return Unused();
    }
    Awaitable<Result<std::int64_t>> ForgetIdleConsumers(std::int64_t, std::int64_t) override {
        co_return Unused();
    }
    Awaitable<Result<std::int64_t>> Replay(const std::string&) override { co_return Unused(); }
    Awaitable<Result<std::vector<StreamStats>>> Stats() override { co_return stats; }
};

/// Templates and coupon counts in memory.
class FakeCoupons final : public CouponRepository {
  public:
    std::map<std::int64_t, CouponTemplate> templates;
    std::map<std::int64_t, std::int64_t> rows;  // coupon rows per template
    Result<CouponTemplate> CreateTemplate(const CouponTemplate& t) override {
        CouponTemplate saved = t;
        saved.id = static_cast<std::int64_t>(templates.size()) + 1;
        templates[saved.id] = saved;
        return saved;
    }
    Result<CouponTemplate> FindTemplate(std::int64_t id) override {
        auto it = templates.find(id);
        if (it == templates.end()) return Error{ErrorCode::kCouponTemplateNotFound, "none"};
        return it->second;
    }
    Result<CouponTemplate> SetTemplateStatus(std::int64_t, TemplateStatus) override {
        return Unused();
    }
    Result<std::vector<CouponTemplate>> ListLiveTemplates() override {
        std::vector<CouponTemplate> out;
        for (auto& [_, t] : templates) out.push_back(t);
        return out;
    }
    Result<std::int64_t> CountIssued(std::int64_t t) override { return rows[t]; }
    Result<RowCount> CountRows(std::int64_t t) override {
        return RowCount{.rows = rows[t], .counter = rows[t]};
    }
    Result<std::vector<std::pair<std::int64_t, std::int64_t>>> CountByUser(std::int64_t) override {
        return std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {2, 1}};
    }
    Result<std::vector<PersistedCoupon>> PersistBatch(const CouponTemplate&,
                                                      const std::vector<IssuedCoupon>&) override {
        return Unused();
    }
    Result<std::optional<IssuedRequest>> FindByRequest(std::int64_t, std::int64_t) override {
        return std::optional<IssuedRequest>{};
    }
    Result<std::vector<std::pair<Coupon, std::string>>> ListByUser(std::int64_t) override {
        return std::vector<std::pair<Coupon, std::string>>{};
    }
};

class FakeUsers final : public UserRepository {
  public:
    Result<User> Create(const User&, const std::string&) override { return Unused(); }
    Result<User> Find(std::int64_t id) override {
        return Error{ErrorCode::kUserNotFound, "user " + std::to_string(id) + " not found"};
    }
    Result<Money> Charge(std::int64_t, Money) override { return Unused(); }
    Result<std::optional<UserCredentials>> FindCredentials(const std::string&) override {
        return std::optional<UserCredentials>{};
    }
};

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
    StreamStats s;
    s.key = t.id;
    s.length = 2;  // entries: one carries a whole issue call's wins
    s.dead_letter_length = 5;
    queue.stats = {s};
    queue.waiting[t.id] = 10;
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
