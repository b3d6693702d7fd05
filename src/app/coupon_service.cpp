#include "app/coupon_service.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace joopang {
namespace {

/// Adds the time since construction to a RequestTiming counter when it goes out of scope.
class RedisTimer {
  public:
    explicit RedisTimer(RequestTiming& t) : timing_(t), start_(std::chrono::steady_clock::now()) {}
    ~RedisTimer() {
        timing_.redis_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - start_)
                                .count();
    }

  private:
    RequestTiming& timing_;
    std::chrono::steady_clock::time_point start_;
};

Error NotFound(std::int64_t id) {
    return Error{ErrorCode::kCouponTemplateNotFound,
                 "coupon template " + std::to_string(id) + " not found"};
}

}  // namespace

CouponService::Awaitable<Result<TemplateView>> CouponService::View(CouponTemplate t,
                                                                   RequestTiming& timing) {
    Result<TemplateCounters> counters = TemplateCounters{};
    {
        RedisTimer timer(timing);
        counters = co_await gate_.Counters(t.id);
    }
    if (!counters) co_return counters.error();
    TemplateView v;
    v.issued = t.issued;
    // Before the first publish (or after Redis lost it) the database is the best knowledge.
    v.reserved = counters->known ? counters->reserved : t.issued;
    v.remaining = std::max<std::int64_t>(0, t.total_quantity - v.reserved);
    v.tmpl = std::move(t);
    co_return v;
}

CouponService::Awaitable<Result<TemplateView>> CouponService::CreateTemplate(
    CouponTemplate input, RequestTiming& timing) {
    input.status = TemplateStatus::kActive;
    if (auto st = ValidateTemplate(input); !st) co_return st.error();
    auto created = co_await pool_.Run([&] { return repo_.CreateTemplate(input); }, &timing.db_ns);
    if (!created) co_return created.error();
    {
        // The template is saved: answer 201 even if Redis is unreachable now (a 5xx would invite
        // a retry that creates a second template); the sync job publishes it later.
        RedisTimer timer(timing);
        if (auto st = co_await gate_.Publish(*created, 0); !st)
            spdlog::warn("template {} saved but not yet published to Redis: {}", created->id,
                         st.error().message);
    }
    TemplateView v;
    v.tmpl = std::move(*created);
    v.remaining = v.tmpl.total_quantity;
    co_return v;
}

CouponService::Awaitable<Result<TemplateView>> CouponService::SetStatus(std::int64_t id,
                                                                        TemplateStatus status,
                                                                        RequestTiming& timing) {
    auto updated =
        co_await pool_.Run([&] { return repo_.SetTemplateStatus(id, status); }, &timing.db_ns);
    if (!updated) co_return updated.error();
    {
        RedisTimer timer(timing);
        if (auto st = co_await gate_.Publish(*updated, updated->issued); !st) co_return st.error();
    }
    co_return co_await View(std::move(*updated), timing);
}

CouponService::Awaitable<Result<TemplateView>> CouponService::GetTemplate(std::int64_t id,
                                                                          RequestTiming& timing) {
    auto t = co_await pool_.Run([&] { return repo_.FindTemplate(id); }, &timing.db_ns);
    if (!t) co_return t.error();
    co_return co_await View(std::move(*t), timing);
}

CouponService::Awaitable<Result<IssueOutcome>> CouponService::Issue(std::int64_t template_id,
                                                                    std::int64_t user_id,
                                                                    RequestTiming& timing) {
    Result<IssueDecision> d = IssueDecision{};
    {
        RedisTimer timer(timing);
        d = co_await gate_.TryIssue(template_id, user_id);
    }
    if (!d) co_return d.error();
    using Kind = IssueDecision::Kind;
    switch (d->kind) {
        case Kind::kReserved: {
            IssueOutcome out;
            out.request_id = d->request_id;
            out.position = d->position;
            out.remaining = d->remaining;
            out.estimated_persist_ms =
                20 + std::max<std::int64_t>(0, d->backlog) * 1000 /
                         std::max<std::int64_t>(1, settings_.assumed_persist_rate);
            co_return out;
        }
        case Kind::kAlreadyIssued:
            co_return Error{
                ErrorCode::kCouponAlreadyIssued,
                "user " + std::to_string(user_id) + " already holds this template's coupon"};
        case Kind::kSoldOut:
            co_return Error{ErrorCode::kCouponSoldOut, "no coupons left"};
        case Kind::kNotActive:
            co_return Error{ErrorCode::kCouponNotActive,
                            "the template is not active or outside its issue window"};
        case Kind::kUnknownTemplate:
            co_return NotFound(template_id);
        case Kind::kRateLimited: {
            Error e{ErrorCode::kRateLimited, "too many requests for this coupon from this user"};
            e.retry_after_s =
                static_cast<int>(std::max<std::int64_t>(1, (d->retry_after_ms + 999) / 1000));
            co_return e;
        }
    }
    co_return Error::Internal("unknown issue decision");
}

CouponService::Awaitable<Result<IssueRequestState>> CouponService::RequestStatus(
    std::int64_t template_id, std::int64_t request_id, RequestTiming& timing) {
    Result<std::optional<IssueRequestState>> r = std::optional<IssueRequestState>{};
    {
        RedisTimer timer(timing);
        r = co_await gate_.FindRequest(template_id, request_id);
    }
    if (!r) co_return r.error();
    if (*r) co_return **r;
    // Not on its way in Redis: persisted (the database row comes before the stream entry goes),
    // or never made.
    auto issued = co_await pool_.Run([&] { return repo_.FindByRequest(template_id, request_id); },
                                     &timing.db_ns);
    if (!issued) co_return issued.error();
    if (!*issued)
        co_return Error{ErrorCode::kNotFound, "issue request " + std::to_string(request_id) +
                                                  " of template " + std::to_string(template_id) +
                                                  " not found"};
    IssueRequestState state;
    state.kind = IssueRequestState::Kind::kIssued;
    state.user_id = (*issued)->user_id;
    state.position = (*issued)->position;
    state.coupon_id = (*issued)->coupon_id;
    co_return state;
}

CouponService::Awaitable<Result<std::vector<std::pair<Coupon, std::string>>>>
CouponService::UserCoupons(std::int64_t user_id, RequestTiming& timing) {
    auto list = co_await pool_.Run([&] { return repo_.ListByUser(user_id); }, &timing.db_ns);
    if (!list) co_return list.error();
    if (list->empty()) {
        auto user = co_await pool_.Run([&] { return users_.Find(user_id); }, &timing.db_ns);
        if (!user) co_return user.error();
    }
    co_return std::move(*list);
}

CouponService::Awaitable<Status> CouponService::SyncTemplates() {
    auto live = co_await pool_.Run([&] { return repo_.ListLiveTemplates(); });
    if (!live) co_return live.error();
    for (const auto& t : *live)
        if (auto st = co_await gate_.Publish(t, t.issued); !st) co_return st;
    co_return Status{};
}

CouponService::Awaitable<Result<ReconcileReport>> CouponService::Reconcile(bool repair) {
    auto live = co_await pool_.Run([&] { return repo_.ListLiveTemplates(); });
    if (!live) co_return live.error();
    ReconcileReport report;
    report.generated_at = NowMs();
    report.repair = repair;
    for (const auto& t : *live) {
        ReconcileLine line;
        line.template_id = t.id;
        line.total = t.total_quantity;
        // Read Redis, then the stream (its wins, not its entries), then the dead letters and the
        // database: a winner moves only in that direction, so a drop in progress can be counted
        // twice but not missed (a replay, moving dead letters back, is the exception).
        auto counters = co_await gate_.Counters(t.id);
        if (!counters) co_return counters.error();
        auto waiting = co_await queue_.WinsWaiting(t.id);
        if (!waiting) co_return waiting.error();
        auto dead_letters = co_await queue_.DeadLetters(t.id);
        if (!dead_letters) co_return dead_letters.error();
        auto issued = co_await pool_.Run([&] { return repo_.CountRows(t.id); });
        if (!issued) co_return issued.error();
        line.database_issued = issued->rows;
        if (issued->counter != issued->rows)
            line.differences.push_back("issued counter " + std::to_string(issued->counter) +
                                       " != coupon rows " + std::to_string(issued->rows));
        line.redis_reserved = counters->reserved;
        line.redis_stock = counters->stock;
        line.in_stream = *waiting;
        line.dead_letters = *dead_letters;
        // Every winner is either persisted, on its way (in the stream) or dead-lettered.
        line.missing_in_database =
            line.redis_reserved - line.database_issued - line.in_stream - line.dead_letters;
        if (!counters->known) line.differences.push_back("template metadata missing in Redis");
        if (counters->known && line.redis_stock + line.redis_reserved != line.total)
            line.differences.push_back("Redis stock + reserved != totalQuantity");
        if (line.database_issued > line.redis_reserved)
            line.differences.push_back("database holds more coupons than Redis reserved");
        if (line.dead_letters > 0)
            line.differences.push_back("winners dead-lettered, not in the database (replay them)");
        if (line.missing_in_database > 0)
            line.differences.push_back("winners in Redis missing from the database and stream");
        if (repair && (!counters->known || line.database_issued > line.redis_reserved ||
                       line.redis_stock + line.redis_reserved != line.total)) {
            auto by_user = co_await pool_.Run([&] { return repo_.CountByUser(t.id); });
            if (!by_user) co_return by_user.error();
            std::int64_t reserved = std::max(line.redis_reserved, line.database_issued);
            auto applied = co_await gate_.Restore(t, *counters, reserved, *by_user);
            if (!applied) co_return applied.error();
            line.repairs.push_back(*applied
                                       ? "restored Redis counters from the database (reserved " +
                                             std::to_string(reserved) + ")"
                                       : "skipped: the drop moved on while reconciling");
        }
        report.templates.push_back(std::move(line));
    }
    {
        std::lock_guard lock(report_mu_);
        last_report_ = report;
    }
    co_return report;
}

std::optional<ReconcileReport> CouponService::LastReport() const {
    std::lock_guard lock(report_mu_);
    return last_report_;
}

}  // namespace joopang
