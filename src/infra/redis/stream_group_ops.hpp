#pragma once
/// The consumer-group operations every stream adapter needs, on Redis: reading in bounded
/// chunks, reclaiming from stopped consumers, acknowledging in bounded chunks, trimming what every
/// group is done with, and forgetting stopped consumers. Decoding is the caller's: each entry read
/// is handed to an EntrySink, which appends the entry's messages and says how many.
///
/// Every command touches at most kChunk entries: Redis runs each command whole, and everything
/// else waiting on it (the issue requests of a drop) waits at most one chunk.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "app/ports/stream_group.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/streams.hpp"

namespace joopang::redis::stream_ops {

inline constexpr std::size_t kChunk = 500;

/// Appends the messages of one entry (a deleted-while-pending entry, without fields, is never
/// handed over) and returns how many it appended.
using EntrySink = std::function<std::size_t(const StreamEntry&)>;

struct ReadRequest {
    std::string stream;
    std::string group;
    std::string consumer;
    /// ">" for entries never delivered, "0" for this consumer's pending ones.
    std::string from;
    /// About how many messages to read (in whole entries).
    std::size_t messages = 1;
    /// Messages per entry to assume for the first chunk's size; later chunks use what was read.
    std::size_t guess_per_entry = 1;
};

/// XREADGROUP in chunks until about `messages` are read or nothing more is there. Entries
/// deleted while pending are acknowledged. On an error after some entries were read, returns
/// what was read (the next read reports the error again); a missing group is kNotFound.
Awaitable<Result<std::size_t>> Read(Client& client,
                                    const ReadRequest& request,
                                    const EntrySink& sink);

/// Takes over entries that consumers which stopped reading for `min_idle` hold (XAUTOCLAIM in
/// small steps, only when such a consumer exists), about `messages` of them, assuming
/// `per_entry` messages per entry; returns how many messages were handed over.
Awaitable<Result<std::size_t>> ReclaimStale(Client& client,
                                            const std::string& stream,
                                            const std::string& group,
                                            const std::string& consumer,
                                            std::chrono::milliseconds min_idle,
                                            std::size_t messages,
                                            std::size_t per_entry,
                                            const EntrySink& sink);

/// XACK commands for `ids`, at most kChunk ids each, appended to `batch`.
void AppendAcks(std::vector<Args>& batch,
                const std::string& stream,
                const std::string& group,
                const std::vector<std::string>& ids);

/// Trims `stream` of everything every consumer group is done with (lua/stream_trim.lua).
Awaitable<Status> TrimAcknowledged(Client& client, const std::string& stream);

/// Removes the group's consumers holding nothing that have not read for `min_idle`
/// (lua/stream_forget_consumers.lua); returns how many.
Awaitable<Result<std::int64_t>> ForgetIdleConsumers(Client& client,
                                                    const std::string& stream,
                                                    const std::string& group,
                                                    std::chrono::milliseconds min_idle);

/// The keys beside a stream (all share its hash tag when its name has one, as a cluster needs).
struct StreamKeys {
    std::string stream;
    std::string dead_letters;  // <stream>:dlq
    std::string failures;      // <stream>:fail — HASH entry id → failed deliveries
    std::string marks;  // <stream>:dead — HASH entry id → dead-lettered, until acknowledged
    static StreamKeys Of(std::string stream);
};

/// Counts one more failure of entry `entry_id`; returns how many it has had.
Awaitable<Result<std::int64_t>> CountFailure(Client& client,
                                             const StreamKeys& keys,
                                             const std::string& entry_id);

/// Acknowledges `ids` (forgetting their failures and dead-letter marks) and trims the stream.
Awaitable<Status> Acknowledge(Client& client,
                              const StreamKeys& keys,
                              const std::string& group,
                              const std::vector<std::string>& ids);

/// Copies an entry, whole, to the dead letters with the notes `source` and `error`, once
/// (lua/stream_dead_letter.lua); with `settle`, also acknowledges and deletes it.
Awaitable<Status> DeadLetterEntry(Client& client,
                                  const StreamKeys& keys,
                                  const std::string& group,
                                  const std::string& entry_id,
                                  const std::string& reason,
                                  bool settle);

/// The notes a dead letter carries beside the entry's own fields: source = the entry's id,
/// error = why (lua/stream_dead_letter.lua writes the same two).
StreamFields DeadLetterNotes(const std::string& source_entry, const std::string& reason);
bool IsDeadLetterNote(std::string_view field);

/// Called for each dead letter a replay moves back, to add commands of the caller's own to the
/// same pipeline (after the entry's XADD).
using ReplayHook = std::function<void(const StreamEntry& dead_letter, std::vector<Args>& batch)>;

/// Moves every dead letter present now back into the stream, without its notes; returns how
/// many.
Awaitable<Result<std::int64_t>> ReplayDeadLetters(Client& client,
                                                  const StreamKeys& keys,
                                                  const ReplayHook& also = {});

/// The figures of one stream for StreamStats: its name, length, the group's pending count, lag
/// and consumers, the oldest pending entry's age, and the dead-letter stream's length.
Awaitable<Result<StreamStats>> ReadFigures(Client& client,
                                           const std::string& stream,
                                           const std::string& group,
                                           const std::string& dead_letters);

/// The same in parts, so that many streams' figures go in one pipelined batch: the commands of
/// one stream (kFigureCommands of them), and the figures read from their replies.
inline constexpr std::size_t kFigureCommands = 5;
void AppendFigureCommands(std::vector<Args>& batch,
                          const std::string& stream,
                          const std::string& group,
                          const std::string& dead_letters);
StreamStats FiguresFrom(const Reply* replies, const std::string& stream, const std::string& group);

}  // namespace joopang::redis::stream_ops
