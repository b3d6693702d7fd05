#pragma once
/// Typed helpers for Redis Streams over any Client (single server or cluster).
///
/// Every helper returns an Error (kUnavailable) for transport failures, like Client::Command(),
/// and also turns a Redis error reply into an Error (kNotFound for NOGROUP — no such stream or
/// consumer group — else kInternal; message "redis <CMD>: <reply>"),
/// except CreateGroup(), which treats BUSYGROUP as "already exists". XReadGroup() with a block time
/// runs on a dedicated connection (Client::BlockingCommand), never on the shared one.
/// The parsers are public so replies can be tested without a server.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "infra/redis/client.hpp"

namespace joopang::redis {

using StreamFields = std::vector<std::pair<std::string, std::string>>;

struct StreamEntry {
    std::string id;
    /// Empty for an entry that was deleted while pending.
    StreamFields fields;
    friend bool operator==(const StreamEntry&, const StreamEntry&) = default;
};

/// The entries read from one stream.
struct StreamRead {
    std::string stream;
    std::vector<StreamEntry> entries;
};

struct XAddOptions {
    std::string id = "*";
    /// MAXLEN trimming; `approximate` uses `~` (much cheaper).
    std::optional<std::size_t> max_len;
    bool approximate = true;
    /// NOMKSTREAM: do not create a missing stream (XAdd then returns an empty id).
    bool no_mkstream = false;
};

/// XADD; returns the new entry's id (empty if NOMKSTREAM and the stream does not exist).
Awaitable<Result<std::string>> XAdd(Client& client,
                                    std::string key,
                                    StreamFields fields,
                                    XAddOptions options = {},
                                    CallOptions opts = {});

struct XReadGroupOptions {
    std::string group;
    std::string consumer;
    /// COUNT; 0 = no limit.
    std::size_t count = 0;
    /// BLOCK milliseconds; unset = do not block. A blocking read gets, unless opts.timeout says
    /// otherwise, a call timeout of block + 2 s. BLOCK 0 (forever) needs an explicit opts.timeout.
    std::optional<std::chrono::milliseconds> block;
    bool no_ack = false;
};

/// XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS k… id…; `streams` pairs each key with
/// its id (">" for new messages, an id to re-read this consumer's pending ones). Returns one
/// StreamRead per stream that had entries; empty when the block time ran out.
Awaitable<Result<std::vector<StreamRead>>> XReadGroup(
    Client& client,
    XReadGroupOptions options,
    std::vector<std::pair<std::string, std::string>> streams,
    CallOptions opts = {});

/// XACK; returns how many entries were acknowledged.
Awaitable<Result<long long>> XAck(Client& client,
                                  std::string key,
                                  std::string group,
                                  std::vector<std::string> ids,
                                  CallOptions opts = {});

struct AutoClaimResult {
    /// Where the next XAUTOCLAIM should start ("0-0" when the scan is complete).
    std::string next_start;
    std::vector<StreamEntry> entries;
    /// Pending ids whose entries no longer exist (removed from the PEL by Redis).
    std::vector<std::string> deleted_ids;
};

/// XAUTOCLAIM key group consumer min-idle start COUNT count.
Awaitable<Result<AutoClaimResult>> XAutoClaim(Client& client,
                                              std::string key,
                                              std::string group,
                                              std::string consumer,
                                              std::chrono::milliseconds min_idle,
                                              std::string start = "0-0",
                                              std::size_t count = 100,
                                              CallOptions opts = {});

struct PendingSummary {
    long long count = 0;
    std::string min_id;  // empty when nothing is pending
    std::string max_id;
    /// Consumer name and its pending count.
    std::vector<std::pair<std::string, long long>> consumers;
};

/// XPENDING key group (the summary form; cheap even with a large PEL).
Awaitable<Result<PendingSummary>> XPendingSummary(Client& client,
                                                  std::string key,
                                                  std::string group,
                                                  CallOptions opts = {});

struct StreamInfo {
    long long length = 0;
    long long groups = 0;
    std::string last_generated_id;
    std::optional<StreamEntry> first_entry;
    std::optional<StreamEntry> last_entry;
};

/// XINFO STREAM key.
Awaitable<Result<StreamInfo>> XInfoStream(Client& client, std::string key, CallOptions opts = {});

struct GroupInfo {
    std::string name;
    long long consumers = 0;
    long long pending = 0;
    std::string last_delivered_id;
    std::optional<long long> entries_read;  // Redis >= 7
    std::optional<long long> lag;           // Redis >= 7; unset when unknown
};

/// XINFO GROUPS key.
Awaitable<Result<std::vector<GroupInfo>>> XInfoGroups(Client& client,
                                                      std::string key,
                                                      CallOptions opts = {});

/// XGROUP CREATE key group start [MKSTREAM]. Returns true if created, false if the group already
/// existed (BUSYGROUP), so it can run at every start-up.
Awaitable<Result<bool>> CreateGroup(Client& client,
                                    std::string key,
                                    std::string group,
                                    std::string start_id = "$",
                                    bool mkstream = true,
                                    CallOptions opts = {});

/// CreateGroup()'s command and the reading of its reply, for a caller that pipelines it with
/// other commands (Client::Batch).
Args CreateGroupArgs(std::string key, std::string group, std::string start_id, bool mkstream);
Result<bool> ParseCreateGroup(const Reply& reply);

// ---- reply parsers ----
Result<StreamEntry> ParseStreamEntry(const Reply& reply);
Result<std::vector<StreamEntry>> ParseStreamEntries(const Reply& reply);
/// XREAD/XREADGROUP reply (nil = nothing read).
Result<std::vector<StreamRead>> ParseStreamRead(const Reply& reply);
Result<AutoClaimResult> ParseAutoClaim(const Reply& reply);
Result<PendingSummary> ParsePendingSummary(const Reply& reply);
Result<StreamInfo> ParseStreamInfo(const Reply& reply);
Result<std::vector<GroupInfo>> ParseGroupsInfo(const Reply& reply);

}  // namespace joopang::redis
