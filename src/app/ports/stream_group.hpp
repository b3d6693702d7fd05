#pragma once
/// A consumer group's side of a family of streams: what a stream consumer (workers::StreamConsumer)
/// needs from the message store, generic over the messages and what handling them produces.
///
/// Streams of one family are numbered by a key (a coupon template's id; 0 for a family of one
/// stream). A `Message` is one decoded unit of work; one stream entry may carry several, which
/// then share their `entry_id` and are delivered together. It must have:
///   std::string entry_id;  // the stream entry that carries it
///   bool malformed;        // the entry could not be decoded: it is dead-lettered whole, at once
/// A `Receipt` is what handling one message produced, recorded with its acknowledgement (for
/// coupons, the id of the coupon row written).
///
/// Delivery is at least once: a message may come again after a crash between its handling and its
/// acknowledgement, so handling must be idempotent.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace joopang {

struct StreamStats {
    std::string name;
    std::int64_t key = 0;  // the stream's number in its family (a coupon template's id)
    std::int64_t length = 0;
    std::int64_t pending = 0;
    std::int64_t lag = 0;
    std::int64_t oldest_pending_age_ms = 0;
    std::int64_t deliveries_retried = 0;
    std::int64_t dead_lettered = 0;
    std::int64_t dead_letter_length = 0;
    std::int64_t consumers = 0;
};

template <class Message, class Receipt>
class StreamGroup {
  public:
    virtual ~StreamGroup() = default;
    template <class T>
    using Awaitable = boost::asio::awaitable<T>;

    /// The name of stream `key` (for logs, metrics and the admin API).
    virtual std::string StreamName(std::int64_t key) const = 0;
    /// The keys of the family's streams that exist now.
    virtual Awaitable<Result<std::vector<std::int64_t>>> Streams() = 0;
    /// Creates the consumer group (tolerates an existing one).
    virtual Awaitable<Status> EnsureGroup(std::int64_t key) = 0;
    /// This consumer's delivered-but-unacknowledged messages (retries after a failure or restart),
    /// about `count` of them, in whole entries.
    virtual Awaitable<Result<std::vector<Message>>> ReadPending(std::int64_t key,
                                                                const std::string& consumer,
                                                                int count) = 0;
    /// Messages never delivered to the group, about `count` of them, in whole entries.
    virtual Awaitable<Result<std::vector<Message>>> ReadNew(std::int64_t key,
                                                            const std::string& consumer,
                                                            int count) = 0;
    /// Takes over entries another consumer has held for `min_idle_ms` (a dead process).
    virtual Awaitable<Result<std::vector<Message>>> Reclaim(std::int64_t key,
                                                            const std::string& consumer,
                                                            std::int64_t min_idle_ms,
                                                            int count) = 0;
    /// After handling: records the receipts of `handled` (in order), acknowledges the entries
    /// `entry_ids` — those none of whose messages waits for a retry — and trims the stream of
    /// what every consumer group is done with.
    virtual Awaitable<Status> Complete(std::int64_t key,
                                       const std::vector<std::string>& entry_ids,
                                       const std::vector<Receipt>& receipts,
                                       const std::vector<Message>& handled) = 0;
    /// Counts a failure of this message alone; returns how many it has had.
    virtual Awaitable<Result<std::int64_t>> RecordFailure(std::int64_t key,
                                                          const Message& message) = 0;
    /// Moves a message to the stream's dead letters (with the reason), once. Its entry is
    /// acknowledged by Complete with the entry's other messages; a malformed entry is
    /// dead-lettered whole and acknowledged here.
    virtual Awaitable<Status> DeadLetter(std::int64_t key,
                                         const Message& message,
                                         const std::string& reason) = 0;
    /// Removes the group's consumers that hold nothing and have not read for `min_idle_ms`
    /// (processes or lanes that stopped), atomically. Returns how many were removed.
    virtual Awaitable<Result<std::int64_t>> ForgetIdleConsumers(std::int64_t key,
                                                                std::int64_t min_idle_ms) = 0;
    /// Moves every dead letter of `stream` back into it; returns how many.
    virtual Awaitable<Result<std::int64_t>> Replay(const std::string& stream) = 0;
    virtual Awaitable<Result<std::vector<StreamStats>>> Stats() = 0;
};

}  // namespace joopang
