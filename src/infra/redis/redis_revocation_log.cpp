#include "infra/redis/redis_revocation_log.hpp"

#include "common/clock.hpp"
#include "infra/redis/numbers.hpp"
#include "infra/redis/streams.hpp"

namespace joopang::redis {

Awaitable<Status> RedisRevocationLog::Publish(const Revocation& r) {
    // Entries whose id (their Redis time) is older than `keep` name expired tokens only.
    std::int64_t oldest_kept = std::max<std::int64_t>(0, NowMs() - keep_.count());
    auto reply = co_await client_->Command(
        MakeArgs("XADD", kKey, "MINID", "~", std::to_string(oldest_kept), "*", "jti", r.token_id,
                 "exp", std::to_string(r.expires_at)));
    if (!reply) co_return reply.error();
    if (reply->IsError())
        co_return Error::Unavailable("XADD " + std::string(kKey) + ": " + reply->str);
    co_return Status{};
}

Awaitable<Result<std::vector<Revocation>>> RedisRevocationLog::ReadAfter(std::string& cursor,
                                                                         int limit) {
    std::string start = cursor.empty() ? "-" : "(" + cursor;
    auto reply = co_await client_->Command(
        MakeArgs("XRANGE", kKey, start, "+", "COUNT", std::to_string(limit)));
    if (!reply) co_return reply.error();
    if (reply->IsError())
        co_return Error::Unavailable("XRANGE " + std::string(kKey) + ": " + reply->str);
    auto entries = ParseStreamEntries(*reply);
    if (!entries) co_return entries.error();
    std::vector<Revocation> out;
    out.reserve(entries->size());
    for (const auto& e : *entries) {
        Revocation r;
        for (const auto& [field, value] : e.fields) {
            if (field == "jti") r.token_id = value;
            if (field == "exp") r.expires_at = ParseInteger<std::int64_t>(value).value_or(0);
        }
        if (!r.token_id.empty()) out.push_back(std::move(r));
        cursor = e.id;
    }
    co_return out;
}

}  // namespace joopang::redis
