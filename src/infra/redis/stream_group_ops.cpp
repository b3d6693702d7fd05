#include "infra/redis/stream_group_ops.hpp"

#include <algorithm>

#include "infra/redis/lua_scripts.hpp"
#include "infra/redis/numbers.hpp"
#include "infra/redis/script.hpp"

namespace joopang::redis::stream_ops {
namespace {

/// lua/stream_forget_consumers.lua
const Script kForgetConsumersScript("stream-forget-consumers",
                                    std::string(lua::kXinfoFields) +
                                        std::string(lua::kStreamForgetConsumers));
/// lua/stream_stale_holders.lua
const Script kStaleHoldersScript("stream-stale-holders",
                                 std::string(lua::kXinfoFields) +
                                     std::string(lua::kStreamStaleHolders));
/// lua/stream_trim.lua
const Script kTrimScript("stream-trim",
                         std::string(lua::kXinfoFields) + std::string(lua::kStreamTrim));

/// lua/stream_dead_letter.lua
const Script kDeadLetterScript("stream-dead-letter", std::string(lua::kStreamDeadLetter));

/// Entries one XAUTOCLAIM may claim: it scans up to ten times as many pending ones, so small
/// steps from the returned cursor keep each call short.
constexpr std::size_t kClaimStep = 100;

Error Unexpected(const std::string& what, const Reply& r) {
    return Error::Unavailable("redis " + what + ": " + r.ToString());
}

}  // namespace

Awaitable<Result<std::size_t>> Read(Client& client, const ReadRequest& req, const EntrySink& sink) {
    XReadGroupOptions o;
    o.group = req.group;
    o.consumer = req.consumer;
    Args ack = MakeArgs("XACK", req.stream, req.group);
    std::string next = req.from;
    const std::size_t wanted = std::max<std::size_t>(req.messages, 1);
    std::size_t messages = 0;
    std::size_t entries_read = 0;
    while (messages < wanted) {
        const std::size_t per_entry = entries_read == 0
                                          ? std::max<std::size_t>(req.guess_per_entry, 1)
                                          : std::max<std::size_t>(1, messages / entries_read);
        o.count = std::clamp<std::size_t>((wanted - messages) / per_entry, 1, kChunk);
        std::vector<std::pair<std::string, std::string>> streams;
        streams.emplace_back(req.stream, next);
        auto r = co_await XReadGroup(client, o, std::move(streams));
        if (!r) {
            if (messages > 0) break;  // deliver what was read; the next read reports it again
            co_return r.error();
        }
        std::size_t got = 0;
        for (const auto& read : *r) {
            got += read.entries.size();
            for (const auto& e : read.entries) {
                if (e.fields.empty())
                    ack.push_back(e.id);  // deleted while pending: nothing to do
                else
                    messages += sink(e);
            }
            // Pending entries are re-read from an id: continue after the last one. New ones
            // (">") continue by themselves.
            if (req.from != ">" && !read.entries.empty()) next = read.entries.back().id;
        }
        entries_read += got;
        if (got < o.count) break;  // nothing more to read now
    }
    if (ack.size() > 3) co_await client.Command(std::move(ack));
    co_return messages;
}

Awaitable<Result<std::size_t>> ReclaimStale(Client& client,
                                            const std::string& stream,
                                            const std::string& group,
                                            const std::string& consumer,
                                            std::chrono::milliseconds min_idle,
                                            std::size_t messages,
                                            std::size_t per_entry,
                                            const EntrySink& sink) {
    per_entry = std::max<std::size_t>(per_entry, 1);
    // XAUTOCLAIM is not cheap (on Redis 7.0 it looks every pending entry it scans up in the
    // stream): ask first whether any consumer has stopped reading.
    auto call =
        client.Eval(kStaleHoldersScript, {stream}, {group, std::to_string(min_idle.count())});
    auto stale = co_await std::move(call);
    if (!stale) co_return stale.error();
    if (!stale->IsInteger()) co_return Unexpected("stream-stale-holders script", *stale);
    std::size_t claimed = 0;
    if (stale->integer == 0) co_return claimed;
    const std::size_t wanted = std::max<std::size_t>(messages, 1);
    std::string start = "0-0";
    do {
        // COUNT is in entries; `wanted` in messages, of which an entry may carry several.
        const std::size_t entries =
            std::clamp<std::size_t>((wanted - claimed) / per_entry, 1, kClaimStep);
        auto r = co_await XAutoClaim(client, stream, group, consumer, min_idle, start, entries);
        if (!r) {
            if (claimed == 0) co_return r.error();
            break;  // what was claimed is ours now: hand it on, the next sweep does the rest
        }
        for (const auto& e : r->entries)
            if (!e.fields.empty()) claimed += sink(e);
        start = std::move(r->next_start);
    } while (start != "0-0" && claimed < wanted);
    co_return claimed;
}

void AppendAcks(std::vector<Args>& batch,
                const std::string& stream,
                const std::string& group,
                const std::vector<std::string>& ids) {
    for (std::size_t begin = 0; begin < ids.size(); begin += kChunk) {
        Args ack = MakeArgs("XACK", stream, group);
        for (std::size_t i = begin; i < std::min(ids.size(), begin + kChunk); ++i)
            ack.push_back(ids[i]);
        batch.push_back(std::move(ack));
    }
}

Awaitable<Status> TrimAcknowledged(Client& client, const std::string& stream) {
    std::vector<std::string> no_args;
    auto call = client.Eval(kTrimScript, {stream}, no_args);
    auto trimmed = co_await std::move(call);
    if (!trimmed) co_return trimmed.error();
    if (!trimmed->IsInteger()) co_return Unexpected("stream-trim script", *trimmed);
    co_return Status{};
}

Awaitable<Result<std::int64_t>> ForgetIdleConsumers(Client& client,
                                                    const std::string& stream,
                                                    const std::string& group,
                                                    std::chrono::milliseconds min_idle) {
    auto call =
        client.Eval(kForgetConsumersScript, {stream}, {group, std::to_string(min_idle.count())});
    auto r = co_await std::move(call);
    if (!r) co_return r.error();
    if (!r->IsInteger()) co_return Unexpected("stream-forget-consumers script", *r);
    co_return static_cast<std::int64_t>(r->integer);
}

StreamKeys StreamKeys::Of(std::string stream) {
    StreamKeys k;
    k.dead_letters = stream + ":dlq";
    k.failures = stream + ":fail";
    k.marks = stream + ":dead";
    k.stream = std::move(stream);
    return k;
}

Awaitable<Result<std::int64_t>> CountFailure(Client& client,
                                             const StreamKeys& keys,
                                             const std::string& entry_id) {
    auto r = co_await client.Command(MakeArgs("HINCRBY", keys.failures, entry_id, "1"));
    if (!r) co_return r.error();
    if (!r->IsInteger()) co_return Unexpected("HINCRBY failures", *r);
    co_return static_cast<std::int64_t>(r->integer);
}

Awaitable<Status> Acknowledge(Client& client,
                              const StreamKeys& keys,
                              const std::string& group,
                              const std::vector<std::string>& ids) {
    if (ids.empty()) co_return Status{};
    // The acknowledgements first: a mark must not go while its entry is still pending (it would
    // be dead-lettered twice if it came back).
    std::vector<Args> batch;
    AppendAcks(batch, keys.stream, group, ids);
    for (std::size_t begin = 0; begin < ids.size(); begin += kChunk) {
        Args fails = MakeArgs("HDEL", keys.failures);
        Args marks = MakeArgs("HDEL", keys.marks);
        for (std::size_t i = begin; i < std::min(ids.size(), begin + kChunk); ++i) {
            fails.push_back(ids[i]);
            marks.push_back(ids[i]);
        }
        batch.push_back(std::move(fails));
        batch.push_back(std::move(marks));
    }
    auto r = co_await client.Batch(std::move(batch));
    if (!r) co_return r.error();
    for (const auto& reply : *r)
        if (reply.IsError()) co_return Unexpected("acknowledging entries", reply);
    co_return co_await TrimAcknowledged(client, keys.stream);
}

Awaitable<Status> DeadLetterEntry(Client& client,
                                  const StreamKeys& keys,
                                  const std::string& group,
                                  const std::string& entry_id,
                                  const std::string& reason,
                                  bool settle) {
    std::vector<std::string> script_keys{keys.stream, keys.dead_letters, keys.marks};
    std::vector<std::string> args{entry_id, reason, settle ? group : std::string()};
    auto r = co_await client.Eval(kDeadLetterScript, script_keys, args);
    if (!r) co_return r.error();
    if (!r->IsInteger()) co_return Unexpected("stream-dead-letter script", *r);
    co_return Status{};
}

StreamFields DeadLetterNotes(const std::string& source_entry, const std::string& reason) {
    return {{"source", source_entry}, {"error", reason}};
}

bool IsDeadLetterNote(std::string_view field) { return field == "source" || field == "error"; }

Awaitable<Result<std::int64_t>> ReplayDeadLetters(Client& client,
                                                  const StreamKeys& keys,
                                                  const ReplayHook& also) {
    // What is dead-lettered now, up to the newest id at the start: an entry that fails again and
    // returns meanwhile is not replayed twice in one call.
    auto last =
        co_await client.Command(MakeArgs("XREVRANGE", keys.dead_letters, "+", "-", "COUNT", "1"));
    if (!last) co_return last.error();
    auto newest = ParseStreamEntries(*last);
    if (!newest) co_return newest.error();
    std::int64_t replayed = 0;
    if (newest->empty()) co_return replayed;
    const std::string end_id = newest->front().id;
    std::string start = "-";
    for (;;) {
        auto r = co_await client.Command(
            MakeArgs("XRANGE", keys.dead_letters, start, end_id, "COUNT", std::to_string(kChunk)));
        if (!r) co_return r.error();
        auto entries = ParseStreamEntries(*r);
        if (!entries) co_return entries.error();
        if (entries->empty()) break;
        std::vector<Args> batch;
        Args del = MakeArgs("XDEL", keys.dead_letters);
        for (const auto& e : *entries) {
            Args add = MakeArgs("XADD", keys.stream, "*");
            for (const auto& [k, v] : e.fields) {
                if (IsDeadLetterNote(k)) continue;
                add.push_back(k);
                add.push_back(v);
            }
            if (add.size() > 3) batch.push_back(std::move(add));  // (notes alone: dropped)
            if (also) also(e, batch);
            del.push_back(e.id);
        }
        batch.push_back(std::move(del));
        auto done = co_await client.Batch(std::move(batch));
        if (!done) co_return done.error();
        for (const auto& reply : *done)
            if (reply.IsError()) co_return Unexpected("replaying dead letters", reply);
        replayed += static_cast<std::int64_t>(entries->size());
        start = "(" + entries->back().id;
    }
    co_return replayed;
}

void AppendFigureCommands(std::vector<Args>& batch,
                          const std::string& stream,
                          const std::string& group,
                          const std::string& dead_letters) {
    batch.push_back(MakeArgs("XLEN", stream));
    batch.push_back(MakeArgs("XINFO", "GROUPS", stream));
    batch.push_back(MakeArgs("XPENDING", stream, group, "-", "+", "1"));
    batch.push_back(MakeArgs("XLEN", dead_letters));
    batch.push_back(MakeArgs("TIME"));
}

StreamStats FiguresFrom(const Reply* r, const std::string& stream, const std::string& group) {
    StreamStats f;
    f.name = stream;
    f.length = r[0].integer;
    if (auto groups = ParseGroupsInfo(r[1])) {
        for (const auto& g : *groups) {
            if (g.name != group) continue;
            f.pending = g.pending;
            f.lag = g.lag.value_or(0);
            f.consumers = g.consumers;
        }
    }
    // The oldest pending entry's age is Redis's clock (TIME) less the time in its id: how long
    // since it was added, whatever its deliveries since (XPENDING's idle time restarts at each).
    const Reply& oldest = r[2];
    const Reply& time = r[4];
    if (oldest.IsArray() && !oldest.elements.empty() && oldest.elements[0].IsArray() &&
        !oldest.elements[0].elements.empty() && oldest.elements[0].elements[0].IsString() &&
        time.IsArray() && time.elements.size() == 2) {
        const std::string& id = oldest.elements[0].elements[0].str;
        auto added_ms = ParseInteger(std::string_view(id).substr(0, id.find('-')));
        auto seconds = ParseInteger(time.elements[0].str);
        auto micros = ParseInteger(time.elements[1].str);
        if (added_ms && seconds && micros)
            f.oldest_pending_age_ms =
                std::max<std::int64_t>(0, *seconds * 1000 + *micros / 1000 - *added_ms);
    }
    f.dead_letter_length = r[3].integer;
    return f;
}

Awaitable<Result<StreamStats>> ReadFigures(Client& client,
                                           const std::string& stream,
                                           const std::string& group,
                                           const std::string& dead_letters) {
    std::vector<Args> batch;
    AppendFigureCommands(batch, stream, group, dead_letters);
    auto r = co_await client.Batch(std::move(batch));
    if (!r) co_return r.error();
    co_return FiguresFrom(r->data(), stream, group);
}

}  // namespace joopang::redis::stream_ops
