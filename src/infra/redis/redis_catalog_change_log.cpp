#include "infra/redis/redis_catalog_change_log.hpp"

#include "infra/redis/numbers.hpp"
#include "infra/redis/streams.hpp"

namespace joopang::redis {

Awaitable<Status> RedisCatalogChangeLog::Publish(const CatalogChangeEntry& change) {
    std::string ids;
    for (auto id : change.product_ids) {
        if (!ids.empty()) ids += ',';
        ids += std::to_string(id);
    }
    if (ids.empty()) ids = "*";
    auto reply = co_await client_->Command(
        MakeArgs("XADD", kKey, "MAXLEN", "~", std::to_string(kKeep), "*", "kind",
                 change.kind == CatalogChange::kStock ? "stock" : "products", "ids", ids));
    if (!reply) co_return reply.error();
    if (reply->IsError())
        co_return Error::Unavailable("XADD " + std::string(kKey) + ": " + reply->str);
    co_return Status{};
}

Awaitable<Result<std::vector<CatalogChangeEntry>>> RedisCatalogChangeLog::ReadAfter(
    std::string& cursor, int limit) {
    using Out = std::vector<CatalogChangeEntry>;
    if (cursor.empty()) {  // start at the end: only what is published from now on matters
        auto last = co_await client_->Command(MakeArgs("XREVRANGE", kKey, "+", "-", "COUNT", "1"));
        if (!last) co_return last.error();
        if (last->IsError())
            co_return Error::Unavailable("XREVRANGE " + std::string(kKey) + ": " + last->str);
        auto entries = ParseStreamEntries(*last);
        if (!entries) co_return entries.error();
        cursor = entries->empty() ? "0-0" : entries->front().id;
        co_return Out{};
    }
    auto reply = co_await client_->Command(
        MakeArgs("XRANGE", kKey, "(" + cursor, "+", "COUNT", std::to_string(limit)));
    if (!reply) co_return reply.error();
    if (reply->IsError())
        co_return Error::Unavailable("XRANGE " + std::string(kKey) + ": " + reply->str);
    auto entries = ParseStreamEntries(*reply);
    if (!entries) co_return entries.error();
    Out out;
    for (const auto& e : *entries) {
        CatalogChangeEntry change;  // an unknown kind reads as the wider one, products
        auto& ids = change.product_ids;
        for (const auto& [field, value] : e.fields) {
            if (field == "kind" && value == "stock") change.kind = CatalogChange::kStock;
            if (field != "ids" || value == "*") continue;
            std::size_t from = 0;
            while (from <= value.size()) {
                const auto comma = value.find(',', from);
                const auto end = comma == std::string::npos ? value.size() : comma;
                if (auto id = ParseInteger<std::int64_t>(value.substr(from, end - from)))
                    ids.push_back(*id);
                from = end + 1;
            }
        }
        out.push_back(std::move(change));  // no ids parsed (or `*`): everything changed
        cursor = e.id;
    }
    co_return out;
}

}  // namespace joopang::redis
