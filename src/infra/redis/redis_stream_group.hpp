#pragma once
/// StreamGroup on Redis for any message type: give it the streams' names and a decoder, and a
/// workers::StreamConsumer drains them into a handler. Everything else is here: reads in bounded
/// chunks, reclaiming from stopped consumers, acknowledging (and trimming), failure counts per
/// entry, dead letters (the entry whole, once) and their replay, stats.
///
/// Keys per stream (see stream_ops::StreamKeys): the stream, `<stream>:dlq`, `<stream>:fail`,
/// `<stream>:dead`. On a Redis Cluster the stream's name must carry a {hash tag} so the four
/// share a slot (the client refuses a script whose keys do not).
///
/// Receipts are not stored: Complete acknowledges. Failures are counted per entry, and a message
/// that fails alone dead-letters its whole entry: meant for one message per entry. (An entry of
/// several messages works, but each failing message counts against the entry, and its handled
/// siblings are handled again after a replay; handlers are idempotent.) The coupon issue streams,
/// whose entries carry many wins and whose receipts are recorded, have their own adapter
/// (RedisCouponIssueQueue) on the same stream operations.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/ports/stream_group.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/stream_group_ops.hpp"

namespace joopang::redis {

struct RedisStreamGroupSettings {
    std::string group;
    /// The streams of the family, by key.
    std::vector<std::int64_t> keys{0};
    /// A stream's name by its key.
    std::function<std::string(std::int64_t)> stream_name;
    /// Messages per entry to expect, for the size of the first read.
    std::size_t messages_per_entry = 1;
};

template <class Message, class Receipt>
class RedisStreamGroup final : public StreamGroup<Message, Receipt> {
  public:
    template <class T>
    using Awaitable = boost::asio::awaitable<T>;
    /// Appends the messages of one entry; a malformed entry as one message with `malformed` set.
    using Decoder =
        std::function<void(std::int64_t key, const StreamEntry&, std::vector<Message>&)>;

    RedisStreamGroup(std::shared_ptr<Client> client,
                     RedisStreamGroupSettings settings,
                     Decoder decode)
        : client_(std::move(client)), settings_(std::move(settings)), decode_(std::move(decode)) {}

    std::string StreamName(std::int64_t key) const override { return settings_.stream_name(key); }

    Awaitable<Result<std::vector<std::int64_t>>> Streams() override { co_return settings_.keys; }

    Awaitable<Status> EnsureGroup(std::int64_t key) override {
        auto r = co_await CreateGroup(*client_, StreamName(key), settings_.group, "0", true);
        if (!r) co_return r.error();
        co_return Status{};
    }

    Awaitable<Result<std::vector<Message>>> ReadPending(std::int64_t key,
                                                        const std::string& consumer,
                                                        int count) override {
        return Read(key, consumer, count, "0");
    }

    Awaitable<Result<std::vector<Message>>> ReadNew(std::int64_t key,
                                                    const std::string& consumer,
                                                    int count) override {
        return Read(key, consumer, count, ">");
    }

    Awaitable<Result<std::vector<Message>>> Reclaim(std::int64_t key,
                                                    const std::string& consumer,
                                                    std::int64_t min_idle_ms,
                                                    int count) override {
        std::vector<Message> out;
        auto claimed = co_await stream_ops::ReclaimStale(
            *client_, StreamName(key), settings_.group, consumer,
            std::chrono::milliseconds(min_idle_ms), static_cast<std::size_t>(std::max(count, 1)),
            settings_.messages_per_entry, Sink(key, out));
        if (!claimed) co_return claimed.error();
        co_return out;
    }

    Awaitable<Status> Complete(std::int64_t key,
                               const std::vector<std::string>& entry_ids,
                               const std::vector<Receipt>&,
                               const std::vector<Message>&) override {
        co_return co_await stream_ops::Acknowledge(*client_, Keys(key), settings_.group, entry_ids);
    }

    Awaitable<Result<std::int64_t>> RecordFailure(std::int64_t key,
                                                  const Message& message) override {
        co_return co_await stream_ops::CountFailure(*client_, Keys(key), message.entry_id);
    }

    Awaitable<Status> DeadLetter(std::int64_t key,
                                 const Message& message,
                                 const std::string& reason) override {
        co_return co_await stream_ops::DeadLetterEntry(*client_, Keys(key), settings_.group,
                                                       message.entry_id, reason, message.malformed);
    }

    Awaitable<Result<std::int64_t>> ForgetIdleConsumers(std::int64_t key,
                                                        std::int64_t min_idle_ms) override {
        co_return co_await stream_ops::ForgetIdleConsumers(
            *client_, StreamName(key), settings_.group, std::chrono::milliseconds(min_idle_ms));
    }

    Awaitable<Result<std::int64_t>> Replay(const std::string& stream) override {
        for (std::int64_t key : settings_.keys)
            if (StreamName(key) == stream)
                co_return co_await stream_ops::ReplayDeadLetters(*client_, Keys(key));
        co_return Error{ErrorCode::kNotFound, "no dead-letter stream for '" + stream + "'"};
    }

    Awaitable<Result<std::vector<StreamStats>>> Stats() override {
        std::vector<StreamStats> out;
        for (std::int64_t key : settings_.keys) {
            const auto keys = Keys(key);
            auto s = co_await stream_ops::ReadFigures(*client_, keys.stream, settings_.group,
                                                      keys.dead_letters);
            if (!s) co_return s.error();
            s->key = key;
            out.push_back(std::move(*s));
        }
        co_return out;
    }

  private:
    stream_ops::StreamKeys Keys(std::int64_t key) const {
        return stream_ops::StreamKeys::Of(StreamName(key));
    }

    stream_ops::EntrySink Sink(std::int64_t key, std::vector<Message>& out) const {
        return [this, key, &out](const StreamEntry& e) {
            const std::size_t before = out.size();
            decode_(key, e, out);
            return out.size() - before;
        };
    }

    Awaitable<Result<std::vector<Message>>> Read(std::int64_t key,
                                                 std::string consumer,
                                                 int count,
                                                 std::string from) {
        std::vector<Message> out;
        stream_ops::ReadRequest req{StreamName(key),
                                    settings_.group,
                                    consumer,
                                    std::move(from),
                                    static_cast<std::size_t>(std::max(count, 1)),
                                    settings_.messages_per_entry};
        auto read = co_await stream_ops::Read(*client_, req, Sink(key, out));
        if (!read) {
            // The stream or group vanished (Redis lost its data): recreate it for the next read.
            if (read.error().code == ErrorCode::kNotFound) co_await EnsureGroup(key);
            co_return read.error();
        }
        co_return out;
    }

    std::shared_ptr<Client> client_;
    RedisStreamGroupSettings settings_;
    Decoder decode_;
};

}  // namespace joopang::redis
