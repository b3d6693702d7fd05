#pragma once
/// In-memory fakes of the coupon ports for unit tests of the app layer: the Redis gate (scripted
/// decisions and counters, recording publishes and restores), the issue queue (wins waiting and
/// dead-lettered per template), templates and coupon counts, and users.

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "app/ports/coupon_gate.hpp"
#include "app/ports/coupon_issue_queue.hpp"
#include "app/ports/coupon_repository.hpp"
#include "app/ports/user_repository.hpp"

namespace joopang::test_fakes {
namespace asio = boost::asio;

inline Error Unused() { return Error::Internal("not used by this test"); }

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

/// Only WinsWaiting() and DeadLetters() are used by the service (reconciliation).
class FakeQueue final : public CouponIssueQueue {
  public:
    std::map<std::int64_t, std::int64_t> waiting;  // wins in the stream, by template
    std::map<std::int64_t, std::int64_t> dead;     // wins dead-lettered, by template
    Awaitable<Result<std::int64_t>> WinsWaiting(std::int64_t t) override { co_return waiting[t]; }
    Awaitable<Result<std::int64_t>> DeadLetters(std::int64_t t) override { co_return dead[t]; }
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
    Awaitable<Result<std::vector<StreamStats>>> Stats() override { co_return Unused(); }
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

}  // namespace joopang::test_fakes
