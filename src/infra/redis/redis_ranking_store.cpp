#include "infra/redis/redis_ranking_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "infra/redis/lua_scripts.hpp"
#include "infra/redis/numbers.hpp"
#include "infra/redis/ranking_codec.hpp"
#include "infra/redis/script.hpp"

namespace joopang::redis {
namespace {

const Script kApply("ranking-apply", std::string(lua::kRankingApply));
const Script kRetire("ranking-retire", std::string(lua::kRankingRetire));
const Script kRebase("ranking-rebase", std::string(lua::kRankingRebase));
const Script kTop("ranking-top", std::string(lua::kRankingTop));
const Script kPublish("ranking-publish", std::string(lua::kRankingPublish));
constexpr const char* kChangedKey = "rank:{rank}:changed";
constexpr const char* kScopesKey = "rank:{rank}:scopes";
constexpr const char* kRebaseKey = "rank:{rank}:rebase";

/// A category id from a scope name (`c17`); 0 for `all`, nullopt for anything else.
std::optional<std::int64_t> CategoryOfScope(std::string_view scope) {
    if (scope == "all") return 0;
    if (scope.size() < 2 || scope[0] != 'c') return std::nullopt;
    auto id = ParseInteger(scope.substr(1));
    if (!id || *id <= 0) return std::nullopt;
    return id;
}

double ReplyNumber(const Reply& r) {
    if (r.IsInteger()) return static_cast<double>(r.integer);
    return std::strtod(r.str.c_str(), nullptr);
}

std::string Number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

/// The window families as both scripts read them: a count, then (name, bucket ms, buckets[, TTL
/// ms]) each.
void AppendFamilies(Args& args, bool with_ttl) {
    const auto& windows = RankingWindows();
    args.push_back(std::to_string(windows.size()));
    for (const auto& w : windows) {
        args.emplace_back(w.family);
        args.push_back(std::to_string(w.bucket_ms));
        args.push_back(std::to_string(w.buckets));
        if (with_ttl) args.push_back(std::to_string(w.ttl_ms));
    }
}

}  // namespace

Awaitable<Status> RedisRankingStore::Apply(const std::vector<RankingEvent>& events, EpochMs now) {
    if (events.empty()) co_return Status{};
    Args args{std::to_string(now),    std::to_string(weights_.half_life_ms),
              Number(weights_.sales), Number(weights_.revenue),
              Number(weights_.views), std::to_string(kRebaseDue)};
    AppendFamilies(args, true);
    args.push_back(std::to_string(events.size()));
    for (const auto& e : events) {
        args.push_back(e.view_batch.empty() ? std::to_string(e.outbox_id) : "v:" + e.view_batch);
        args.push_back(std::to_string(e.sign));
        args.push_back(std::to_string(e.at));
        args.push_back(std::to_string(e.lines.size()));
        for (const auto& l : e.lines) {
            args.push_back(std::to_string(l.product_id));
            args.push_back(std::to_string(l.category_id));
            args.push_back(std::to_string(l.quantity));
            args.push_back(std::to_string(l.amount_cents));
            args.push_back(std::to_string(l.views));
        }
    }
    Args keys{kAppliedKey};
    auto reply = co_await client_->Eval(kApply, keys, args);
    if (!reply) co_return reply.error();
    // A script error is no outage: the engine isolates the batch message by message.
    if (reply->IsError()) co_return Error::Internal("ranking-apply: " + reply->str);
    // The landmark is moving (Rebase): the events wait, as in an outage.
    if (reply->IsInteger() && reply->integer < 0)
        co_return Error::Unavailable("rankings: the decay landmark is being moved on");
    co_return Status{};
}

Awaitable<Result<bool>> RedisRankingStore::Retire(EpochMs now, int max_steps) {
    Args args{std::to_string(now), std::to_string(kRetireChunk),
              std::to_string(kAppliedRetentionMs)};
    AppendFamilies(args, false);
    Args keys{kAppliedKey};
    // Step by step, each a bounded script call, so Redis serves others in between.
    for (int step = 0; step < max_steps; ++step) {
        auto reply = co_await client_->Eval(kRetire, keys, args);
        if (!reply) co_return reply.error();
        if (reply->IsError()) co_return Error::Internal("ranking-retire: " + reply->str);
        if (reply->integer == 0) co_return false;
    }
    co_return true;
}

Awaitable<Result<bool>> RedisRankingStore::Rebase(EpochMs now, int max_steps) {
    Args args{std::to_string(now), std::to_string(weights_.half_life_ms),
              std::to_string(kRebaseDue), std::to_string(kRebaseChunk)};
    AppendFamilies(args, false);
    Args keys{kRebaseKey};
    for (int step = 0; step < max_steps; ++step) {
        auto reply = co_await client_->Eval(kRebase, keys, args);
        if (!reply) co_return reply.error();
        if (reply->IsError()) co_return Error::Internal("ranking-rebase: " + reply->str);
        if (reply->integer == 0) co_return false;
    }
    co_return true;
}

Awaitable<Result<std::vector<RankingScope>>> RedisRankingStore::TakeChanged(std::size_t max) {
    auto reply = co_await client_->Command(MakeArgs("SPOP", kChangedKey, std::to_string(max)));
    if (!reply) co_return reply.error();
    if (reply->IsError()) co_return Error::Internal("SPOP: " + reply->str);
    std::vector<RankingScope> out;
    for (const auto& e : reply->elements) {
        // "<family>:<scope>", as the scripts note it.
        auto colon = e.str.find(':');
        if (colon == std::string::npos) continue;
        auto family = std::string_view(e.str).substr(0, colon);
        auto category = CategoryOfScope(std::string_view(e.str).substr(colon + 1));
        if (!category) continue;
        for (const auto& w : RankingWindows())
            if (w.family == family) out.push_back({std::string(w.name), *category});
    }
    co_return out;
}

Awaitable<Result<std::vector<std::int64_t>>> RedisRankingStore::Categories() {
    auto reply = co_await client_->Command(MakeArgs("SMEMBERS", kScopesKey));
    if (!reply) co_return reply.error();
    if (reply->IsError()) co_return Error::Internal("SMEMBERS: " + reply->str);
    std::vector<std::int64_t> out;
    for (const auto& e : reply->elements)
        if (auto c = CategoryOfScope(e.str); c && *c > 0) out.push_back(*c);
    co_return out;
}

Awaitable<Result<RankingSet>> RedisRankingStore::Collect(const RankingWindow& window,
                                                         std::int64_t category_id,
                                                         std::size_t limit,
                                                         EpochMs now) {
    Args keys{kScopesKey};
    Args args{std::string(window.family), RankingScopeName(category_id), std::to_string(limit)};
    auto reply = co_await client_->Eval(kTop, keys, args);
    if (!reply) co_return reply.error();
    if (reply->IsError()) co_return Error::Internal("ranking-top: " + reply->str);
    const auto& e = reply->elements;
    if (e.empty()) co_return Error::Internal("ranking-top: empty reply");
    // The sums hold scores weighted from the landmark on; as of `now` they are divided by the
    // weight of `now` (forward decay).
    const double landmark = ReplyNumber(e[0]);
    const double scale = std::exp2((landmark - static_cast<double>(now)) /
                                   static_cast<double>(weights_.half_life_ms));
    RankingSet set;
    std::size_t i = 1;
    for (auto& ranking : set) {
        ranking.generated_at = now;
        if (i >= e.size()) co_return Error::Internal("ranking-top: short reply");
        const auto n = static_cast<std::size_t>(e[i++].integer);
        if (i + n * 5 > e.size()) co_return Error::Internal("ranking-top: short reply");
        for (std::size_t j = 0; j < n; ++j, i += 5) {
            ProductTally t;
            t.product_id = ParseInteger(e[i].str).value_or(0);
            t.sales = std::llround(ReplyNumber(e[i + 1]));
            t.revenue_cents = std::llround(ReplyNumber(e[i + 2]));
            t.views = std::llround(ReplyNumber(e[i + 3]));
            t.score = ReplyNumber(e[i + 4]) * scale;
            ranking.items.push_back(std::move(t));
        }
    }
    // The script picks the right members; among equal values REV gives the higher id first.
    for (std::size_t m = 0; m < set.size(); ++m)
        std::stable_sort(set[m].items.begin(), set[m].items.end(),
                         [metric = kRankingMetrics[m]](const auto& a, const auto& b) {
                             return RanksBefore(a, b, metric);
                         });
    co_return set;
}

Awaitable<Status> RedisRankingStore::Publish(const RankingWindow& window,
                                             std::int64_t category_id,
                                             const RankingSet& set,
                                             EpochMs ttl_ms) {
    Args keys, args{std::to_string(ttl_ms)};
    for (std::size_t m = 0; m < set.size(); ++m) {
        auto key = PublishedRankingKey(window.name, kRankingMetrics[m], category_id);
        keys.push_back(key);
        keys.push_back(key + ":tmp");
        args.push_back(EncodePublishedRanking(set[m]));
    }
    auto reply = co_await client_->Eval(kPublish, keys, args);
    if (!reply) co_return reply.error();
    if (reply->IsError()) co_return Error::Internal("ranking-publish: " + reply->str);
    co_return Status{};
}

}  // namespace joopang::redis
