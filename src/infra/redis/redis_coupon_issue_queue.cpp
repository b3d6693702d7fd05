#include "infra/redis/redis_coupon_issue_queue.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "infra/redis/coupon_codec.hpp"
#include "infra/redis/coupon_issue_batcher.hpp"
#include "infra/redis/coupon_keys.hpp"
#include "infra/redis/lua_scripts.hpp"
#include "infra/redis/numbers.hpp"
#include "infra/redis/script.hpp"
#include "infra/redis/stream_group_ops.hpp"
#include "infra/redis/streams.hpp"

namespace joopang::redis {
namespace keys = coupon_keys;

namespace {

/// lua/coupon_dead_letter.lua
const Script kDeadLetterWinScript("coupon-dead-letter", std::string(lua::kCouponDeadLetter));

Error RedisError(const std::string& what, const Reply& r) {
    return Error::Unavailable("redis " + what + ": " + r.ToString());
}

}  // namespace

std::string RedisCouponIssueQueue::StreamName(std::int64_t template_id) const {
    return keys::Stream(template_id);
}

Awaitable<Result<std::vector<std::int64_t>>> RedisCouponIssueQueue::Streams() {
    auto r = co_await client_->Command(MakeArgs("SMEMBERS", keys::kTemplates));
    if (!r) co_return r.error();
    if (!r->IsArray()) co_return RedisError("SMEMBERS", *r);
    std::vector<std::int64_t> out;
    for (const auto& e : r->elements)
        if (auto id = ParseInteger(e.str)) out.push_back(*id);
    co_return out;
}

Awaitable<Status> RedisCouponIssueQueue::EnsureGroup(std::int64_t t) {
    auto r = co_await CreateGroup(*client_, keys::Stream(t), keys::kGroup, "0", true);
    if (!r) co_return r.error();
    co_return Status{};
}

Awaitable<Result<std::vector<IssueEntry>>> RedisCouponIssueQueue::ReadGroup(
    std::int64_t t, const std::string& consumer, int count, const std::string& from) {
    // `count` counts wins, and an entry carries one or up to a whole issue batch of them: the
    // first chunk asks for as many entries as full batches would fill.
    std::vector<IssueEntry> out;
    stream_ops::ReadRequest req{keys::Stream(t),
                                keys::kGroup,
                                consumer,
                                from,
                                static_cast<std::size_t>(std::max(count, 1)),
                                CouponIssueBatcher::kDefaultMaxBatch};
    auto read = co_await stream_ops::Read(*client_, req, [&](const StreamEntry& e) {
        const std::size_t before = out.size();
        coupon_codec::DecodeEntry(t, e, out);
        return out.size() - before;
    });
    if (!read) {
        // The stream or group vanished (e.g. Redis lost its data): recreate, read nothing now.
        if (read.error().code == ErrorCode::kNotFound) co_await EnsureGroup(t);
        co_return read.error();
    }
    co_return out;
}

Awaitable<Result<std::vector<IssueEntry>>> RedisCouponIssueQueue::ReadPending(
    std::int64_t t, const std::string& consumer, int count) {
    co_return co_await ReadGroup(t, consumer, count, "0");
}

Awaitable<Result<std::vector<IssueEntry>>> RedisCouponIssueQueue::ReadNew(
    std::int64_t t, const std::string& consumer, int count) {
    co_return co_await ReadGroup(t, consumer, count, ">");
}

Awaitable<Result<std::vector<IssueEntry>>> RedisCouponIssueQueue::Reclaim(
    std::int64_t t, const std::string& consumer, std::int64_t min_idle_ms, int count) {
    std::vector<IssueEntry> out;
    auto claimed = co_await stream_ops::ReclaimStale(
        *client_, keys::Stream(t), keys::kGroup, consumer, std::chrono::milliseconds(min_idle_ms),
        // Steps of up to 100 entries whatever they carry: a dead consumer's entries are few
        // (a lane reads ~2,000 wins at a time) and a larger write is still one transaction.
        static_cast<std::size_t>(std::max(count, 1)), 1, [&](const StreamEntry& e) {
            const std::size_t before = out.size();
            coupon_codec::DecodeEntry(t, e, out);
            return out.size() - before;
        });
    if (!claimed) co_return claimed.error();
    if (!out.empty()) {
        co_await client_->Command(
            MakeArgs("HINCRBY", keys::Meta(t), "retried", std::to_string(out.size())));
    }
    co_return out;
}

Awaitable<Result<std::int64_t>> RedisCouponIssueQueue::ForgetIdleConsumers(
    std::int64_t t, std::int64_t min_idle_ms) {
    co_return co_await stream_ops::ForgetIdleConsumers(*client_, keys::Stream(t), keys::kGroup,
                                                       std::chrono::milliseconds(min_idle_ms));
}

Awaitable<Status> RedisCouponIssueQueue::Complete(std::int64_t t,
                                                  const std::vector<std::string>& entry_ids,
                                                  const std::vector<PersistedCoupon>& persisted,
                                                  const std::vector<IssueEntry>& wins) {
    if (entry_ids.empty() && wins.empty()) co_return Status{};
    // One pipeline, but no command over stream_ops::kChunk wins or entries: Redis runs each command
    // whole, so the issue requests in flight wait at most one chunk. A persisted win keeps no
    // state in Redis: its status is read from the database row (which exists before the entry
    // is acknowledged; see CouponService::RequestStatus). Only a replayed win — its request id
    // is not its entry's — has a state of its own ("R:…", written by Replay), dropped here before
    // the acknowledgement.
    std::vector<Args> batch;
    const std::size_t n = std::min(wins.size(), persisted.size());
    // HDEL `fields` of `key`, at most stream_ops::kChunk per command.
    auto forget = [&batch](const std::string& key, const std::vector<std::string>& fields) {
        for (std::size_t begin = 0; begin < fields.size(); begin += stream_ops::kChunk) {
            Args del = MakeArgs("HDEL", key);
            const std::size_t end = std::min(fields.size(), begin + stream_ops::kChunk);
            del.insert(del.end(), fields.begin() + begin, fields.begin() + end);
            batch.push_back(std::move(del));
        }
    };
    std::vector<std::string> requests, replayed;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& c = wins[i].coupon;
        requests.push_back(std::to_string(c.request_id));
        if (coupon_codec::EntryIdOf(c.request_id) != wins[i].entry_id)
            replayed.push_back(requests.back());
    }
    forget(keys::Requests(t), replayed);
    forget(keys::Failures(t), requests);
    if (n > 0) batch.push_back(MakeArgs("HINCRBY", keys::Meta(t), "persisted", std::to_string(n)));
    stream_ops::AppendAcks(batch, keys::Stream(t), keys::kGroup, entry_ids);
    auto r = co_await client_->Batch(std::move(batch));
    if (!r) co_return r.error();
    for (const auto& reply : *r)
        if (reply.IsError()) co_return RedisError("completing entries", reply);
    if (entry_ids.empty()) co_return Status{};
    // Acknowledged entries leave the stream by trimming, not by XDEL of each id. A failure here
    // loses nothing: the entries are acknowledged, and the next trim removes them too.
    co_return co_await stream_ops::TrimAcknowledged(*client_, keys::Stream(t));
}

Awaitable<Result<std::int64_t>> RedisCouponIssueQueue::RecordFailure(std::int64_t t,
                                                                     const IssueEntry& win) {
    // A failed write means the entry will be delivered again: count it as a retried delivery.
    std::vector<Args> batch;
    batch.push_back(
        MakeArgs("HINCRBY", keys::Failures(t), std::to_string(win.coupon.request_id), "1"));
    batch.push_back(MakeArgs("HINCRBY", keys::Meta(t), "retried", "1"));
    auto r = co_await client_->Batch(std::move(batch));
    if (!r) co_return r.error();
    if (!(*r)[0].IsInteger()) co_return RedisError("HINCRBY failures", (*r)[0]);
    co_return static_cast<std::int64_t>((*r)[0].integer);
}

Awaitable<Status> RedisCouponIssueQueue::DeadLetter(std::int64_t t,
                                                    const IssueEntry& win,
                                                    const std::string& reason) {
    const auto& c = win.coupon;
    if (win.malformed) {
        // Nothing in it can be written or answered for: keep its fields as read, and let it go.
        std::vector<Args> batch;
        Args add = MakeArgs("XADD", keys::DeadLetters(t), "*");
        for (const auto& [k, v] : win.raw_fields) {
            if (stream_ops::IsDeadLetterNote(k)) continue;
            add.push_back(k);
            add.push_back(v);
        }
        for (auto& [name, value] : stream_ops::DeadLetterNotes(win.entry_id, reason)) {
            add.push_back(std::move(name));
            add.push_back(std::move(value));
        }
        batch.push_back(std::move(add));
        batch.push_back(MakeArgs("XACK", keys::Stream(t), keys::kGroup, win.entry_id));
        batch.push_back(MakeArgs("XDEL", keys::Stream(t), win.entry_id));
        batch.push_back(MakeArgs("HINCRBY", keys::Meta(t), "dead", "1"));
        auto r = co_await client_->Batch(std::move(batch));
        if (!r) co_return r.error();
        for (const auto& reply : *r)
            if (reply.IsError()) co_return RedisError("dead-lettering", reply);
        co_return Status{};
    }
    // The request's state is written with the dead letter: until the entry is acknowledged (by
    // Complete) the entry answers for the win, after it the state (see kRequestScript).
    std::vector<std::string> script_keys{keys::Requests(t), keys::DeadLetters(t), keys::Meta(t)};
    std::vector<std::string> script_args{std::to_string(c.request_id),
                                         coupon_codec::FailedState(c.user_id, c.position)};
    for (auto& [name, value] : coupon_codec::DeadLetterFields(c, win.entry_id, reason)) {
        script_args.push_back(std::move(name));
        script_args.push_back(std::move(value));
    }
    auto r = co_await client_->Eval(kDeadLetterWinScript, script_keys, script_args);
    if (!r) co_return r.error();
    if (!r->IsInteger()) co_return RedisError("coupon-dead-letter script", *r);
    co_return Status{};
}

Awaitable<Result<std::int64_t>> RedisCouponIssueQueue::Replay(const std::string& stream) {
    auto t = coupon_codec::TemplateOfStream(stream);
    if (!t) co_return Error{ErrorCode::kNotFound, "no dead-letter stream for '" + stream + "'"};
    // A replayed win is RESERVED again, and its failures are forgotten (the dead-lettering kept
    // the count), in the pipeline that moves it back.
    auto reserve_again = [t = *t](const StreamEntry& dead_letter, std::vector<Args>& batch) {
        std::string request, user, pos;
        for (const auto& [k, v] : dead_letter.fields) {
            if (k == "r") request = v;
            if (k == "u") user = v;
            if (k == "p") pos = v;
        }
        auto user_id = ParseInteger(user);
        auto position = ParseInteger(pos);
        if (!ParseInteger(request) || !user_id || !position) return;  // a malformed entry
        batch.push_back(MakeArgs("HSET", keys::Requests(t), request,
                                 coupon_codec::ReservedState(*user_id, *position)));
        batch.push_back(MakeArgs("HDEL", keys::Failures(t), request));
    };
    co_return co_await stream_ops::ReplayDeadLetters(
        *client_, stream_ops::StreamKeys::Of(keys::Stream(*t)), reserve_again);
}

Awaitable<Result<std::vector<StreamStats>>> RedisCouponIssueQueue::Stats() {
    auto templates = co_await Streams();
    if (!templates) co_return templates.error();
    // Every template's figures and counters in pipelined batches of kStep templates: a round
    // trip per stream would make the figures of a thousand finished drops cost a thousand.
    constexpr std::size_t kStep = 200;
    constexpr std::size_t kPer = stream_ops::kFigureCommands + 1;  // + HMGET of the counters
    std::vector<StreamStats> out;
    out.reserve(templates->size());
    for (std::size_t from = 0; from < templates->size(); from += kStep) {
        const std::size_t to = std::min(templates->size(), from + kStep);
        std::vector<Args> batch;
        batch.reserve((to - from) * kPer);
        for (std::size_t i = from; i < to; ++i) {
            const std::int64_t t = (*templates)[i];
            stream_ops::AppendFigureCommands(batch, keys::Stream(t), keys::kGroup,
                                             keys::DeadLetters(t));
            batch.push_back(MakeArgs("HMGET", keys::Meta(t), "retried", "dead"));
        }
        auto r = co_await client_->Batch(std::move(batch));
        if (!r) co_return r.error();
        if (r->size() != (to - from) * kPer)
            co_return Error::Unavailable("stream figures: a reply is missing");
        for (std::size_t i = from; i < to; ++i) {
            const std::int64_t t = (*templates)[i];
            const Reply* replies = r->data() + (i - from) * kPer;
            StreamStats s = stream_ops::FiguresFrom(replies, keys::Stream(t), keys::kGroup);
            s.key = t;
            const Reply& meta = replies[stream_ops::kFigureCommands];
            if (meta.IsArray() && meta.elements.size() == 2) {
                if (meta.elements[0].IsString())
                    s.deliveries_retried = ParseInteger(meta.elements[0].str).value_or(0);
                if (meta.elements[1].IsString())
                    s.dead_lettered = ParseInteger(meta.elements[1].str).value_or(0);
            }
            out.push_back(std::move(s));
        }
    }
    co_return out;
}

namespace {

/// A stream id "ms-seq" as a pair, for ordering (ids of malformed text order first).
std::pair<std::int64_t, std::int64_t> IdOrder(std::string_view id) {
    const auto dash = id.find('-');
    if (dash == std::string_view::npos) return {-1, -1};
    return {ParseInteger(id.substr(0, dash)).value_or(-1),
            ParseInteger(id.substr(dash + 1)).value_or(-1)};
}

}  // namespace

Awaitable<Result<std::int64_t>> RedisCouponIssueQueue::DeadLetters(std::int64_t t) {
    auto r = co_await client_->Command(MakeArgs("XLEN", keys::DeadLetters(t)));
    if (!r) co_return r.error();
    if (!r->IsInteger()) co_return RedisError("XLEN", *r);
    co_return r->integer;
}

Awaitable<Result<std::int64_t>> RedisCouponIssueQueue::WinsWaiting(std::int64_t t) {
    // A win waits while its entry is not yet delivered to the persister's group (past the group's
    // last-delivered id) or is delivered and pending. An acknowledged entry stays in the stream
    // until the trim passes it (behind the oldest pending entry), but its wins are in the
    // database. Every read goes in steps of kStep, so each call holds Redis briefly however long
    // the stream (800,000 entries during a 10-million-winner drop).
    constexpr int kStep = 500;
    const std::string stream = keys::Stream(t);
    auto groups = co_await client_->Command(MakeArgs("XINFO", "GROUPS", stream));
    if (!groups) co_return groups.error();
    std::pair<std::int64_t, std::int64_t> delivered{-1, -1};  // no group: nothing delivered
    if (groups->IsArray()) {
        auto info = ParseGroupsInfo(*groups);
        if (!info) co_return info.error();
        for (const auto& g : *info)
            if (g.name == keys::kGroup) delivered = IdOrder(g.last_delivered_id);
    }
    std::set<std::string> pending;
    for (std::string from = "-";;) {
        auto r = co_await client_->Command(
            MakeArgs("XPENDING", stream, keys::kGroup, from, "+", std::to_string(kStep)));
        if (!r) co_return r.error();
        if (r->IsError()) break;  // NOGROUP: nothing pending
        if (!r->IsArray()) co_return RedisError("XPENDING", *r);
        for (const auto& e : r->elements)
            if (e.IsArray() && !e.elements.empty()) pending.insert(e.elements[0].str);
        if (r->elements.size() < static_cast<std::size_t>(kStep)) break;
        from = "(" + r->elements.back().elements.at(0).str;
    }
    std::int64_t wins = 0;
    for (std::string from = "-";;) {
        auto r = co_await client_->Command(
            MakeArgs("XRANGE", stream, from, "+", "COUNT", std::to_string(kStep)));
        if (!r) co_return r.error();
        auto entries = ParseStreamEntries(*r);
        if (!entries) co_return entries.error();
        std::vector<IssueEntry> decoded;
        for (const auto& e : *entries)
            if (IdOrder(e.id) > delivered || pending.count(e.id))
                coupon_codec::DecodeEntry(t, e, decoded);
        wins += static_cast<std::int64_t>(decoded.size());
        if (entries->size() < static_cast<std::size_t>(kStep)) co_return wins;
        from = "(" + entries->back().id;
    }
}

}  // namespace joopang::redis
