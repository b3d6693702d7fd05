#include "infra/redis/redis_order_event_group.hpp"

#include "infra/redis/numbers.hpp"
#include "infra/redis/redis_stream_group.hpp"

namespace joopang::redis {

std::unique_ptr<OrderEventGroup> MakeOrderEventGroup(std::shared_ptr<Client> client,
                                                     std::string stream,
                                                     std::string group) {
    RedisStreamGroupSettings settings;
    settings.group = std::move(group);
    settings.keys = {0};
    settings.stream_name = [stream = std::move(stream)](std::int64_t) { return stream; };
    auto decode = [](std::int64_t, const StreamEntry& entry, std::vector<RankingEvent>& out) {
        std::string_view outbox_id, topic, payload;
        for (const auto& [field, value] : entry.fields) {
            if (field == "outbox_id") outbox_id = value;
            if (field == "topic") topic = value;
            if (field == "payload") payload = value;
        }
        auto id = ParseInteger<std::int64_t>(outbox_id);
        auto event = id ? ParseOrderEvent(*id, topic, payload) : std::nullopt;
        RankingEvent e = event.value_or(RankingEvent{});
        e.entry_id = entry.id;
        e.malformed = !event;
        out.push_back(std::move(e));
    };
    return std::make_unique<RedisStreamGroup<RankingEvent, RankingApplied>>(
        std::move(client), std::move(settings), std::move(decode));
}

}  // namespace joopang::redis
