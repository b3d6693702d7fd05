#include "infra/redis/redis_coupon_gate.hpp"

#include <algorithm>

#include "infra/redis/coupon_codec.hpp"
#include "infra/redis/coupon_keys.hpp"
#include "infra/redis/lua_scripts.hpp"
#include "infra/redis/script.hpp"
#include "infra/redis/streams.hpp"

namespace joopang::redis {
namespace keys = coupon_keys;

namespace {

/// lua/coupon_counters.lua
const Script kCountersScript("coupon-counters", std::string(lua::kCouponCounters));

/// lua/coupon_footprint.lua
const Script kFootprintScript("coupon-footprint", std::string(lua::kCouponFootprint));

/// lua/coupon_restore.lua
const Script kRestoreScript("coupon-restore", std::string(lua::kCouponRestore));

/// lua/coupon_restore_counts.lua
const Script kRestoreCountsScript("coupon-restore-counts", std::string(lua::kCouponRestoreCounts));

/// Users per coupon-restore-counts call: a repair of millions of users never blocks Redis long.
constexpr std::size_t kRestoreCountsStep = 500;

/// lua/coupon_request.lua
const Script kRequestScript("coupon-request", std::string(lua::kCouponRequest));

Error RedisError(const std::string& what, const Reply& r) {
    return Error::Unavailable("redis " + what + ": " + r.ToString());
}

}  // namespace

RedisCouponGate::RedisCouponGate(std::shared_ptr<Client> client, CouponGateSettings settings)
    : client_(std::move(client)),
      batcher_(std::make_unique<CouponIssueBatcher>(client_,
                                                    settings.rate_limit_per_second,
                                                    settings.issue_batch,
                                                    settings.issue_in_flight,
                                                    settings.sold_out_memo)) {
    if (settings.wait_replicas > 0)
        batcher_->RequireReplicas(settings.wait_replicas, settings.wait_timeout);
}

RedisCouponGate::~RedisCouponGate() = default;

Awaitable<Result<IssueDecision>> RedisCouponGate::TryIssue(std::int64_t t, std::int64_t user_id) {
    // The batcher's own awaitable, not a coroutine around it: one frame less on every request.
    return batcher_->Issue(t, user_id);
}

Awaitable<Status> RedisCouponGate::Publish(const CouponTemplate& t, std::int64_t already_issued) {
    auto opt = [](const std::optional<EpochMs>& v) {
        return v ? std::to_string(*v) : std::string();
    };
    // 'gate' lets the issue script skip status and window for the common case (see the script):
    // the per-user limit when issuing needs no further check, else empty. One HSET with the
    // fields it is derived from, so the two never disagree.
    const bool open_without_window =
        t.status == TemplateStatus::kActive && !t.start_at && !t.end_at;
    std::vector<Args> batch;
    batch.push_back(
        MakeArgs("HSET", keys::Meta(t.id), "status", std::string(ToString(t.status)), "start_at",
                 opt(t.start_at), "end_at", opt(t.end_at), "limit",
                 std::to_string(t.per_user_limit), "total", std::to_string(t.total_quantity),
                 "gate", open_without_window ? std::to_string(t.per_user_limit) : std::string()));
    batch.push_back(MakeArgs(
        "SET", keys::Stock(t.id),
        std::to_string(std::max<std::int64_t>(0, t.total_quantity - already_issued)), "NX"));
    batch.push_back(MakeArgs("SADD", keys::kTemplates, std::to_string(t.id)));
    // The stream and its consumer group, for the persister (an existing one is kept).
    batch.push_back(CreateGroupArgs(keys::Stream(t.id), keys::kGroup, "0", true));
    auto r = co_await client_->Batch(std::move(batch));
    // A status or window written (or perhaps written) is seen by this process's next request.
    batcher_->ForgetSoldOut();
    if (!r) co_return r.error();
    for (std::size_t i = 0; i + 1 < r->size(); ++i)
        if ((*r)[i].IsError()) co_return RedisError("publishing template", (*r)[i]);
    if (auto group = ParseCreateGroup(r->back()); !group) co_return group.error();
    co_return Status{};
}

Awaitable<Result<std::optional<IssueRequestState>>> RedisCouponGate::FindRequest(
    std::int64_t t, std::int64_t request_id) {
    using Out = std::optional<IssueRequestState>;
    if (request_id <= 0) co_return Out{};
    std::vector<std::string> script_keys{keys::Requests(t), keys::Stream(t)};
    std::vector<std::string> script_args{std::to_string(request_id),
                                         coupon_codec::EntryIdOf(request_id),
                                         std::to_string(request_id % 1000), keys::kGroup};
    auto r = co_await client_->Eval(kRequestScript, script_keys, script_args);
    if (!r) co_return r.error();
    if (r->IsNil()) co_return Out{};
    if (!r->IsString()) co_return RedisError("coupon-request script", *r);
    auto st = coupon_codec::ParseRequestState(r->str);
    if (!st) co_return RedisError("request state", *r);
    co_return Out{st};
}

Awaitable<Result<TemplateCounters>> RedisCouponGate::Counters(std::int64_t t) {
    std::vector<std::string> script_keys;
    script_keys.push_back(keys::Meta(t));
    script_keys.push_back(keys::Stock(t));
    script_keys.push_back(keys::Seq(t));
    std::vector<std::string> no_args;
    auto r = co_await client_->Eval(kCountersScript, script_keys, no_args);
    if (!r) co_return r.error();
    if (!r->IsArray() || r->elements.size() != 5) co_return RedisError("coupon-counters", *r);
    const auto& e = r->elements;
    TemplateCounters c;
    c.known = e[0].integer == 1;
    c.persisted = e[1].integer;
    c.stock = e[2].integer;
    c.has_seq = e[3].integer == 1;
    c.reserved = e[4].integer;
    co_return c;
}

Awaitable<Result<std::vector<DropKey>>> RedisCouponGate::Footprint(std::int64_t t) {
    const std::pair<const char*, std::string> roles[] = {{"meta", keys::Meta(t)},
                                                         {"stock", keys::Stock(t)},
                                                         {"users", keys::Users(t)},
                                                         {"won", keys::Won(t)},
                                                         {"seq", keys::Seq(t)},
                                                         {"requests", keys::Requests(t)},
                                                         {"failures", keys::Failures(t)},
                                                         {"stream", keys::Stream(t)},
                                                         {"dead_letters", keys::DeadLetters(t)}};
    std::vector<std::string> script_keys;
    for (const auto& [role, key] : roles) script_keys.push_back(key);
    std::vector<std::string> no_args;
    auto r = co_await client_->Eval(kFootprintScript, script_keys, no_args);
    if (!r) co_return r.error();
    if (!r->IsArray() || r->elements.size() != script_keys.size())
        co_return RedisError("coupon-footprint", *r);
    std::vector<DropKey> out;
    for (std::size_t i = 0; i < script_keys.size(); ++i) {
        const auto& e = r->elements[i];
        if (!e.IsArray() || e.elements.size() != 4) co_return RedisError("coupon-footprint", *r);
        if (e.elements[0].str == "none") continue;
        out.push_back(DropKey{.role = roles[i].first,
                              .key = roles[i].second,
                              .type = e.elements[0].str,
                              .bytes = e.elements[1].integer,
                              .ttl_ms = e.elements[2].integer,
                              .length = e.elements[3].integer});
    }
    co_return out;
}

Awaitable<Result<bool>> RedisCouponGate::Restore(
    const CouponTemplate& t,
    const TemplateCounters& seen,
    std::int64_t reserved,
    const std::vector<std::pair<std::int64_t, std::int64_t>>& user_counts) {
    if (auto st = co_await Publish(t, reserved); !st) co_return st.error();
    // Users Redis forgot get their database count back; a count Redis still has is left alone
    // (it may include a win that is still in the stream).
    const std::vector<std::string> count_keys{keys::Users(t.id), keys::Won(t.id)};
    for (std::size_t begin = 0; begin < user_counts.size(); begin += kRestoreCountsStep) {
        std::vector<std::string> pairs{std::to_string(t.total_quantity)};
        const std::size_t end = std::min(user_counts.size(), begin + kRestoreCountsStep);
        for (std::size_t i = begin; i < end; ++i) {
            pairs.push_back(std::to_string(user_counts[i].first));
            pairs.push_back(std::to_string(user_counts[i].second));
        }
        auto r = co_await client_->Eval(kRestoreCountsScript, count_keys, pairs);
        if (!r) co_return r.error();
        if (!r->IsInteger()) co_return RedisError("coupon-restore-counts", *r);
    }
    std::vector<std::string> script_keys;
    script_keys.push_back(keys::Seq(t.id));
    script_keys.push_back(keys::Stock(t.id));
    script_keys.push_back(keys::Meta(t.id));
    std::vector<std::string> script_args;
    script_args.push_back(seen.has_seq ? std::to_string(seen.reserved) : std::string());
    script_args.push_back(std::to_string(reserved));
    script_args.push_back(std::to_string(std::max<std::int64_t>(0, t.total_quantity - reserved)));
    auto r = co_await client_->Eval(kRestoreScript, script_keys, script_args);
    batcher_->ForgetSoldOut();  // the script moved the generation too, for other processes
    if (!r) co_return r.error();
    if (!r->IsInteger()) co_return RedisError("coupon-restore", *r);
    co_return r->integer == 1;
}

}  // namespace joopang::redis
