#include "infra/redis/redis_event_log.hpp"

namespace joopang::redis {

Awaitable<Status> RedisEventLog::Append(const std::vector<OutboxEvent>& events) {
    if (events.empty()) co_return Status{};
    std::vector<Args> commands;
    commands.reserve(events.size());
    for (const auto& e : events)
        commands.push_back(MakeArgs("XADD", stream_, "MAXLEN", "~", std::to_string(max_length_),
                                    "*", "outbox_id", std::to_string(e.id), "topic", e.topic,
                                    "payload", e.payload));
    auto replies = co_await client_->Batch(std::move(commands));
    if (!replies) co_return replies.error();
    for (const auto& r : *replies)
        if (r.IsError()) co_return Error::Unavailable("XADD " + stream_ + ": " + r.str);
    co_return Status{};
}

}  // namespace joopang::redis
