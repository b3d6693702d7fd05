#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"

namespace joopang {

/// A domain event written in the same transaction as the change it describes (`order-paid`,
/// `order-canceled`), waiting to be relayed.
struct OutboxEvent {
    std::int64_t id = 0;  // increasing: the order events are relayed in
    std::string topic;
    std::int64_t aggregate_id = 0;
    std::string payload;  // JSON
    EpochMs created_at = 0;
};

/// The outbox table. Blocking; thread-safe.
class OutboxRepository {
  public:
    virtual ~OutboxRepository() = default;
    /// Up to `limit` unsent events, oldest first.
    virtual Result<std::vector<OutboxEvent>> FetchUnsent(int limit) = 0;
    /// Marks events sent (those already marked stay as they are).
    virtual Status MarkSent(const std::vector<std::int64_t>& ids, EpochMs now) = 0;
};

/// Where relayed events go (a Redis stream that consumers read in order). Appending the same
/// event twice is allowed (a relay that crashed before MarkSent sends it again): consumers
/// recognise it by its outbox id.
class EventLog {
  public:
    virtual ~EventLog() = default;
    /// Appends `events` in order; all or an error (then some may have been appended).
    virtual boost::asio::awaitable<Status> Append(const std::vector<OutboxEvent>& events) = 0;
};

}  // namespace joopang
