#include "http/coupon_routes.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <map>
#include <optional>

#include "http/admin_json.hpp"
#include "http/handler_support.hpp"
#include "observability/metrics.hpp"

namespace joopang::http {
using boost::asio::awaitable;
namespace json = boost::json;

namespace {

json::value OptMoneyJson(const std::optional<Money>& m) {
    return m ? json::value(m->ToString()) : json::value(nullptr);
}
json::value OptTimeJson(const std::optional<EpochMs>& t) {
    return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}

json::value TemplateJson(const TemplateView& v) {
    const auto& t = v.tmpl;
    return {{"id", t.id},
            {"title", t.title},
            {"type", ToString(t.terms.type)},
            {"value", t.terms.value.ToString()},
            {"totalQuantity", t.total_quantity},
            {"perUserLimit", t.per_user_limit},
            {"minOrderAmount", t.terms.min_order_amount.ToString()},
            {"maxDiscountAmount", OptMoneyJson(t.terms.max_discount_amount)},
            {"startAt", OptTimeJson(t.start_at)},
            {"endAt", OptTimeJson(t.end_at)},
            {"validDays", t.valid_days ? json::value(*t.valid_days) : json::value(nullptr)},
            {"status", ToString(t.status)},
            {"reservedQuantity", v.reserved},
            {"issuedQuantity", v.issued},
            {"remainingQuantity", v.remaining},
            {"createdAt", FormatRfc3339(t.created_at)}};
}

std::string_view StateName(IssueRequestState::Kind k) {
    switch (k) {
        case IssueRequestState::Kind::kIssued:
            return "ISSUED";
        case IssueRequestState::Kind::kFailed:
            return "FAILED";
        case IssueRequestState::Kind::kReserved:
            break;
    }
    return "RESERVED";
}

Result<std::optional<EpochMs>> OptTime(const JsonFields& f, std::string_view key) {
    auto text = f.OptText(key);
    if (!text) return text.error();
    if (!*text) return std::optional<EpochMs>{};
    auto t = ParseRfc3339(**text);
    if (!t) return Error::Validation(f.Name(key), f.Name(key) + " must be an RFC 3339 time");
    return std::optional<EpochMs>{*t};
}

Result<CouponTemplate> ParseTemplate(const json::object& body) {
    JsonFields f(body);
    CouponTemplate t;
    auto title = f.Text("title");
    if (!title) return title.error();
    auto type_text = f.Text("type");
    if (!type_text) return type_text.error();
    auto type = ParseCouponType(*type_text);
    if (!type) return Error::Validation("type", "type must be PERCENTAGE or AMOUNT");
    auto value = f.MoneyField("value");
    if (!value) return value.error();
    auto total = f.Int("totalQuantity", 1, kMaxCouponQuantity);
    if (!total) return total.error();
    auto limit = f.OptInt("perUserLimit", 1, 1000);
    if (!limit) return limit.error();
    auto min_order = f.OptMoney("minOrderAmount");
    if (!min_order) return min_order.error();
    auto max_discount = f.OptMoney("maxDiscountAmount");
    if (!max_discount) return max_discount.error();
    auto start = OptTime(f, "startAt");
    if (!start) return start.error();
    auto end = OptTime(f, "endAt");
    if (!end) return end.error();
    auto valid_days = f.OptInt("validDays", 1, 3650);
    if (!valid_days) return valid_days.error();
    t.title = std::move(*title);
    t.terms.type = *type;
    t.terms.value = *value;
    t.total_quantity = *total;
    t.per_user_limit = limit->value_or(1);
    t.terms.min_order_amount = min_order->value_or(Money());
    t.terms.max_discount_amount = *max_discount;
    t.start_at = *start;
    t.end_at = *end;
    t.valid_days = *valid_days;
    return t;
}

json::value CouponJson(const Coupon& c, const std::string& title, EpochMs now) {
    return {{"couponId", c.id},
            {"couponTemplateId", c.template_id},
            {"title", title},
            {"type", ToString(c.terms.type)},
            {"value", c.terms.value.ToString()},
            {"minOrderAmount", c.terms.min_order_amount.ToString()},
            {"maxDiscountAmount", OptMoneyJson(c.terms.max_discount_amount)},
            {"status", ToString(c.StatusAt(now))},
            {"issuedAt", FormatRfc3339(c.issued_at)},
            {"expiresAt", FormatRfc3339(c.expires_at)},
            {"usedAt", OptTimeJson(c.used_at)},
            {"orderId", c.order_id ? json::value(*c.order_id) : json::value(nullptr)}};
}

/// Whether an issue answer proves that its template exists: only the issue script's decisions on
/// a published template do. Every other answer (an unknown id, Redis unavailable, …) is counted
/// under the template "-", so that no client can add series by naming ids that do not exist.
bool ProvesTemplate(std::optional<ErrorCode> error) {
    if (!error) return true;
    switch (*error) {
        case ErrorCode::kCouponAlreadyIssued:
        case ErrorCode::kCouponSoldOut:
        case ErrorCode::kCouponNotActive:
        case ErrorCode::kRateLimited:
            return true;
        default:
            return false;
    }
}

/// The decision counter of (template, outcome), cached per thread so that the hot path builds no
/// labels and takes no lock.
obs::Counter& IssueCounter(std::int64_t template_id, std::optional<ErrorCode> error) {
    thread_local std::map<std::pair<std::int64_t, int>, obs::Counter*> cache;
    if (!ProvesTemplate(error)) template_id = 0;  // ids are positive: 0 is "-"
    int outcome = error ? static_cast<int>(*error) : -1;
    auto& slot = cache[{template_id, outcome}];
    if (!slot) {
        slot = &obs::Registry::Global().GetCounter(
            "joopang_coupon_issue_total", "Coupon issue decisions by template and outcome",
            {{"template", template_id ? std::to_string(template_id) : std::string("-")},
             {"outcome", error ? std::string(WireCode(*error)) : std::string("RESERVED")}});
    }
    return *slot;
}

}  // namespace

void RegisterCouponRoutes(Router& router, CouponService& coupons) {
    router.Add("POST", "/api/v1/coupon-templates",
               [&coupons](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(body, ParseJsonObject(ctx.request().body));
                   JP_TRY(input, ParseTemplate(body));
                   auto r = co_await coupons.CreateTemplate(std::move(input), ctx.timing());
                   if (!r) co_return ErrorResponse(r.error(), ctx.path());
                   co_return JsonResponse(201, TemplateJson(*r));
               },
               {.access = Access::kAdmin,
                .idempotent = true,
                .summary = "Create a coupon template (admin)"});

    router.Add(
        "PATCH", "/api/v1/coupon-templates/{id}",
        [&coupons](RequestContext& ctx) -> awaitable<HttpResponse> {
            JP_TRY(id, ctx.PathId(0, "id"));
            JP_TRY(body, ParseJsonObject(ctx.request().body));
            JP_TRY(text, JsonFields(body).Text("status"));
            auto status = ParseTemplateStatus(text);
            if (!status)
                co_return ErrorResponse(
                    Error::Validation("status", "status must be ACTIVE, PAUSED or ENDED"),
                    ctx.path());
            auto r = co_await coupons.SetStatus(id, *status, ctx.timing());
            if (!r) co_return ErrorResponse(r.error(), ctx.path());
            co_return JsonResponse(200, TemplateJson(*r));
        },
        {.access = Access::kAdmin, .summary = "Pause, resume or end a coupon template (admin)"});

    router.Add("GET", "/api/v1/coupon-templates/{id}",
               [&coupons](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathId(0, "id"));
                   auto r = co_await coupons.GetTemplate(id, ctx.timing());
                   if (!r) co_return ErrorResponse(r.error(), ctx.path());
                   co_return JsonResponse(200, TemplateJson(*r));
               },
               {.summary = "Read a coupon template with live counts"});

    router.Add("POST", "/api/v1/coupon-templates/{id}/issue",
               [&coupons](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathId(0, "id"));
                   // The user is the token's; a body may name it (then it must be the same).
                   std::optional<std::int64_t> named;
                   const std::string& raw = ctx.request().body;
                   if (auto compact = CompactSingleIdBody(raw, "userId")) {
                       named = *compact;  // the usual body, read without building a JSON object
                   } else if (!raw.empty() && raw != "{}") {
                       // Any other body is parsed in full, into a local arena.
                       unsigned char scratch[512];
                       boost::json::monotonic_resource arena(scratch, sizeof scratch);
                       JP_TRY(body, ParseJsonObject(raw, &arena));
                       JP_TRY(user_id, JsonFields(body).OptId("userId"));
                       named = user_id;
                   }
                   JP_TRY(user, ctx.ActingUser(named));
                   auto r = co_await coupons.Issue(id, user, ctx.timing());
                   if (!r) {
                       // Taken once: result::error() returns a copy, and most answers of a drop are
                       // errors.
                       const Error error = r.error();
                       IssueCounter(id, error.code).Add();
                       co_return ErrorResponse(error, ctx.path());
                   }
                   IssueCounter(id, std::nullopt).Add();
                   co_return ReservedIssueResponse(id, user, *r);
               },
               {.access = Access::kUser,
                .summary = "Try to win a coupon (first come, first served; signed in)"});

    router.Add(
        "GET", "/api/v1/coupon-templates/{id}/issue-requests/{requestId}",
        [&coupons](RequestContext& ctx) -> awaitable<HttpResponse> {
            JP_TRY(id, ctx.PathId(0, "id"));
            JP_TRY(request_id, ctx.PathId(1, "requestId"));
            auto r = co_await coupons.RequestStatus(id, request_id, ctx.timing());
            if (!r) co_return ErrorResponse(r.error(), ctx.path());
            if (auto owner = ctx.CheckOwner(r->user_id); !owner)
                co_return ErrorResponse(owner.error(), ctx.path());
            json::object out{{"requestId", request_id},
                             {"templateId", id},
                             {"userId", r->user_id},
                             {"status", StateName(r->kind)},
                             {"position", r->position}};
            out["couponId"] = r->coupon_id ? json::value(r->coupon_id) : json::value(nullptr);
            co_return JsonResponse(200, out);
        },
        {.access = Access::kUser, .summary = "What became of an issue request (its user's)"});

    router.Add("GET", "/api/v1/users/{id}/coupons",
               [&coupons](RequestContext& ctx) -> awaitable<HttpResponse> {
                   JP_TRY(id, ctx.PathUser(0));
                   auto r = co_await coupons.UserCoupons(id, ctx.timing());
                   if (!r) co_return ErrorResponse(r.error(), ctx.path());
                   json::array items;
                   EpochMs now = NowMs();
                   for (const auto& [c, title] : *r) items.push_back(CouponJson(c, title, now));
                   co_return JsonResponse(200, {{"items", std::move(items)}});
               },
               {.access = Access::kUser, .summary = "A user's coupons (expiry applied)"});
}

void RegisterAdminRoutes(Router& router,
                         CouponService& coupons,
                         std::vector<StreamAdmin> families) {
    router.Add("GET", "/api/v1/admin/streams",
               [families](RequestContext& ctx) -> awaitable<HttpResponse> {
                   auto start = std::chrono::steady_clock::now();
                   auto all = co_await AllStreamStats(families);
                   if (!all) co_return ErrorResponse(all.error(), ctx.path());
                   ctx.timing().redis_ns += (std::chrono::steady_clock::now() - start).count();
                   json::array streams;
                   for (const auto& s : *all) streams.push_back(ToJson(s));
                   co_return JsonResponse(200, {{"streams", std::move(streams)}});
               },
               {.access = Access::kAdmin,
                .summary = "Stream figures: length, pending, lag, dead letters"});

    router.Add("POST", "/api/v1/admin/streams/{name}/dead-letter/replay",
               [families](RequestContext& ctx) -> awaitable<HttpResponse> {
                   // The path capture is already percent-decoded ("coupon-issue:{42}").
                   std::string name = ctx.request().path;
                   const std::string prefix = "/api/v1/admin/streams/";
                   name = name.substr(prefix.size(), name.size() - prefix.size() -
                                                         std::string("/dead-letter/replay").size());
                   // The family that knows the stream replays it; the others answer NOT_FOUND.
                   Result<std::int64_t> r =
                       Error{ErrorCode::kNotFound, "no dead-letter stream for '" + name + "'"};
                   for (const auto& family : families) {
                       r = co_await family.replay(name);
                       if (r || r.error().code != ErrorCode::kNotFound) break;
                   }
                   if (!r) co_return ErrorResponse(r.error(), ctx.path());
                   co_return JsonResponse(200, {{"stream", name}, {"replayed", *r}});
               },
               {.access = Access::kAdmin, .summary = "Re-queue a stream's dead letters"});

    auto report_json = [](const ReconcileReport& rep) {
        json::array templates;
        for (const auto& l : rep.templates) {
            json::array diffs, repairs;
            for (const auto& d : l.differences) diffs.push_back(json::value(d));
            for (const auto& d : l.repairs) repairs.push_back(json::value(d));
            templates.push_back({{"templateId", l.template_id},
                                 {"totalQuantity", l.total},
                                 {"redisReserved", l.redis_reserved},
                                 {"redisStock", l.redis_stock},
                                 {"databaseIssued", l.database_issued},
                                 {"inStream", l.in_stream},
                                 {"deadLetters", l.dead_letters},
                                 {"missingInDatabase", l.missing_in_database},
                                 {"differences", std::move(diffs)},
                                 {"repairs", std::move(repairs)},
                                 {"ok", l.differences.empty()}});
        }
        return json::value{{"generatedAt", FormatRfc3339(rep.generated_at)},
                           {"repaired", rep.repair},
                           {"templates", std::move(templates)}};
    };

    router.Add("GET", "/api/v1/admin/reconciliation",
               [&coupons, report_json](RequestContext& ctx) -> awaitable<HttpResponse> {
                   auto last = coupons.LastReport();
                   if (!last) {
                       // No run yet in this process: run one now (read-only).
                       auto r = co_await coupons.Reconcile(false);
                       if (!r) co_return ErrorResponse(r.error(), ctx.path());
                       co_return JsonResponse(200, report_json(*r));
                   }
                   co_return JsonResponse(200, report_json(*last));
               },
               {.access = Access::kAdmin, .summary = "The last reconciliation report"});

    router.Add(
        "POST", "/api/v1/admin/reconciliation",
        [&coupons, report_json](RequestContext& ctx) -> awaitable<HttpResponse> {
            bool repair = ctx.Query("repair").value_or("false") == "true";
            auto r = co_await coupons.Reconcile(repair);
            if (!r) co_return ErrorResponse(r.error(), ctx.path());
            co_return JsonResponse(200, report_json(*r));
        },
        {.access = Access::kAdmin, .summary = "Run reconciliation now (?repair=true fixes Redis)"});
}

}  // namespace joopang::http
