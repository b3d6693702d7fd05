#pragma once
/// EventLog on Redis: relayed outbox events become entries of one stream (fields `outbox_id`,
/// `topic`, `payload`), appended in one pipeline, in order. The stream is capped at about
/// `max_length` entries (`MAXLEN ~`): a bound on its memory if no consumer drains it; consumers
/// (the ranking updater) read far behind the head only after an outage that long.

#include <memory>
#include <string>

#include "app/ports/outbox.hpp"
#include "infra/redis/client.hpp"

namespace joopang::redis {

class RedisEventLog final : public EventLog {
  public:
    RedisEventLog(std::shared_ptr<Client> client, std::string stream, std::size_t max_length)
        : client_(std::move(client)), stream_(std::move(stream)), max_length_(max_length) {}

    Awaitable<Status> Append(const std::vector<OutboxEvent>& events) override;

  private:
    std::shared_ptr<Client> client_;
    std::string stream_;
    std::size_t max_length_;
};

}  // namespace joopang::redis
