#include "infra/redis/redis_ranking_store.hpp"

#include "infra/redis/lua_scripts.hpp"
#include "infra/redis/script.hpp"

namespace joopang::redis {
namespace {

const Script kApply("ranking-apply", std::string(lua::kRankingApply));
const Script kRetire("ranking-retire", std::string(lua::kRankingRetire));

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
    Args args{std::to_string(now), std::to_string(weights_.half_life_ms), Number(weights_.sales),
              Number(weights_.revenue), Number(weights_.views)};
    AppendFamilies(args, true);
    args.push_back(std::to_string(events.size()));
    for (const auto& e : events) {
        args.push_back(std::to_string(e.outbox_id));
        args.push_back(std::to_string(e.sign));
        args.push_back(std::to_string(e.at));
        args.push_back(std::to_string(e.lines.size()));
        for (const auto& l : e.lines) {
            args.push_back(std::to_string(l.product_id));
            args.push_back(std::to_string(l.category_id));
            args.push_back(std::to_string(l.quantity));
            args.push_back(std::to_string(l.amount_cents));
        }
    }
    Args keys{kAppliedKey};
    auto reply = co_await client_->Eval(kApply, keys, args);
    if (!reply) co_return reply.error();
    // A script error is no outage: the engine isolates the batch message by message.
    if (reply->IsError()) co_return Error::Internal("ranking-apply: " + reply->str);
    co_return Status{};
}

Awaitable<Result<int>> RedisRankingStore::Retire(EpochMs now) {
    Args args{std::to_string(now), std::to_string(kRetireChunk),
              std::to_string(kAppliedRetentionMs)};
    AppendFamilies(args, false);
    Args keys{kAppliedKey};
    // Step by step, each a bounded script call, so Redis serves others in between.
    for (int steps = 1; steps <= 100'000; ++steps) {
        auto reply = co_await client_->Eval(kRetire, keys, args);
        if (!reply) co_return reply.error();
        if (reply->IsError()) co_return Error::Internal("ranking-retire: " + reply->str);
        if (reply->integer == 0) co_return steps;
    }
    co_return 100'000;
}

}  // namespace joopang::redis
