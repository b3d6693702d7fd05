#pragma once
/// The stream-consumer engine: drains a family of streams through one consumer group into a
/// handler, exactly once in effect (at-least-once delivery, idempotent handling).
///
/// A user gives it a StreamGroup (the message store's side: read, acknowledge, dead letters; its
/// adapter decodes entries into messages) and a StreamHandler (what a batch of messages does),
/// and nothing else. The engine does the rest:
///
/// - `lanes` coroutines (each a consumer of its own, "<consumer>/<lane>") loop over the family's
///   streams, so one lane's handling overlaps another's reads and acknowledgements. For each
///   stream a lane (1) re-reads its own pending entries once their retry time has come, (2) takes
///   over entries a dead consumer has held longer than `claim_idle` (XAUTOCLAIM), (3) reads new
///   entries, hands each read to the handler as one batch, and after the handler succeeded
///   records the receipts and acknowledges the entries (StreamGroup::Complete).
/// - An unavailable handler (kUnavailable: the database is down) backs the whole lane off,
///   doubling up to 5 s, with nothing counted against the messages. Another error isolates the
///   culprit: the batch's messages are handled one by one, so the others land at once; each
///   failure of a message is counted in the store, and after `max_deliveries` it alone moves to
///   the dead letters. An entry is acknowledged once none of its messages waits for a retry.
/// - A malformed entry is dead-lettered whole at once.
/// - Idle, only the first lane polls (every `idle_poll`, backing off to `idle_poll_max`); the
///   others wait until a lane finds work, or at most the pending-read refresh.
/// - One lane per process publishes the streams' stats as gauges (joopang_stream_*{stream}) and
///   removes the group's consumers that stopped (`forget_consumers_after`).
///
/// The lanes share the engine's state: give it a single-threaded executor (a reactor run by one
/// thread, as the runtime's background reactor is) or a strand.
///
/// The implementation is in stream_consumer_impl.hpp: include it in the one .cpp that
/// instantiates the engine for its message type.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/ports/stream_group.hpp"
#include "common/error.hpp"

namespace joopang::workers {

template <class Message, class Receipt>
class StreamHandler {
  public:
    virtual ~StreamHandler() = default;
    /// Called for a stream before its first batch (e.g. to load what its messages need). An
    /// error leaves the stream for the next round; kUnavailable also backs the lane off.
    virtual boost::asio::awaitable<Status> Prepare(std::int64_t key) = 0;
    /// Handles `batch` all or nothing; returns one receipt per message, in order. kUnavailable
    /// backs the lane off; any other error makes the engine retry the messages one by one.
    virtual boost::asio::awaitable<Result<std::vector<Receipt>>> Handle(
        std::int64_t key, const std::vector<Message>& batch) = 0;
    /// After `messages` handled messages of stream `key` were recorded and acknowledged (for
    /// counting what really landed; a message handled but not acknowledged comes again).
    virtual void Completed(std::int64_t key, std::size_t messages) {}
};

struct StreamConsumerSettings {
    std::string name = "stream consumer";  // for logs
    std::string consumer;                  // unique per process
    int batch = 2000;                      // messages per handler call (in whole entries)
    int lanes = 3;                         // concurrent drain loops (consumers) in this process
    std::int64_t max_deliveries = 5;
    std::chrono::milliseconds retry_delay{1000};
    std::chrono::milliseconds claim_idle{5000};
    /// Consumers with nothing pending that have not read for this long (stopped or dead
    /// processes) are removed from the group, so the list does not grow with every restart.
    /// 0 = never.
    std::chrono::milliseconds forget_consumers_after{600000};
    /// The first lane's poll interval while idle: idle_poll at first, doubling up to
    /// idle_poll_max while nothing comes.
    std::chrono::milliseconds idle_poll{10};
    std::chrono::milliseconds idle_poll_max{80};
    std::chrono::milliseconds stats_interval{2000};
    /// How often the list of streams is read again.
    std::chrono::milliseconds streams_refresh{100};
    /// A stream in which a lane has found nothing for quiet_after, and for which it holds
    /// nothing pending, is quiet: the first lane reads it only every quiet_poll, the helpers not
    /// at all, until a read finds work again (then every lane drains it at once). Finished
    /// coupon drops pile up as streams; without this every poll would read each of them.
    /// 0 = never quiet (the ranking updater's one stream: a payment must rank within 2 s).
    std::chrono::milliseconds quiet_after{10000};
    std::chrono::milliseconds quiet_poll{1000};
};

template <class Message, class Receipt>
class StreamConsumer {
  public:
    StreamConsumer(boost::asio::any_io_executor executor,
                   StreamGroup<Message, Receipt>& group,
                   StreamHandler<Message, Receipt>& handler,
                   StreamConsumerSettings settings);
    ~StreamConsumer();
    StreamConsumer(const StreamConsumer&) = delete;
    StreamConsumer& operator=(const StreamConsumer&) = delete;

    void Start();
    /// Asks the lanes to stop after the batch in progress and waits for them. Idempotent.
    void Stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace joopang::workers
