#include "infra/redis/redis_coupon_store.hpp"

#include <algorithm>
#include <charconv>

#include "infra/redis/coupon_issue_batcher.hpp"
#include "infra/redis/coupon_keys.hpp"
#include "infra/redis/script.hpp"
#include "infra/redis/streams.hpp"

namespace joopang::redis {
namespace keys = coupon_keys;

namespace {

/// A Lua helper the XINFO-reading scripts start with: XINFO answers each group or consumer as a
/// flat list of field, value, field, value…; this turns one into a table by field name.
constexpr std::string_view kLuaFieldTable = R"lua(
local function fields(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end
)lua";

/// Deletes the consumers of group ARGV[1] on stream KEYS[1] that hold no pending entry and have
/// not read for ARGV[2] ms, in one step: XGROUP DELCONSUMER drops a consumer's pending entries, so
/// the check and the delete must not let a read in between. Returns how many were deleted.
const Script kForgetConsumersScript("coupon-forget-consumers", std::string(kLuaFieldTable) + R"lua(
local consumers = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if type(consumers) ~= 'table' or consumers.err then return 0 end
local min_idle = tonumber(ARGV[2])
local forgotten = 0
for _, flat in ipairs(consumers) do
  local c = fields(flat)
  if c.name and c.pending == 0 and c.idle and c.idle >= min_idle then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], c.name)
    forgotten = forgotten + 1
  end
end
return forgotten
)lua");

/// 1 when a consumer of group ARGV[1] on stream KEYS[1] holds pending entries and has not read for
/// ARGV[2] ms (a stopped or dead process: live lanes read at least every 500 ms), else 0. Reclaim
/// asks this first because XAUTOCLAIM itself is not cheap: on Redis 7.0 it looks every pending
/// entry it scans up in the stream (~2 µs each), so a sweep of a drop's thousands of fresh
/// pending entries held Redis, and every issue request behind it, for ~6-11 ms.
const Script kStaleHoldersScript("coupon-stale-holders", std::string(kLuaFieldTable) + R"lua(
local consumers = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if type(consumers) ~= 'table' or consumers.err then return 0 end
local min_idle = tonumber(ARGV[2])
for _, flat in ipairs(consumers) do
  local c = fields(flat)
  if c.pending and c.pending > 0 and c.idle and c.idle >= min_idle then return 1 end
end
return 0
)lua");

/// Trims the issue stream of what every consumer group is done with: the entries before each
/// group's oldest pending one, or, when a group has nothing pending, up to its last delivered
/// one (entries after it are unread). XTRIM MINID drops whole listpack nodes; XDEL of a batch's
/// 500 ids took Redis ~2 ms per call, a stall every issue request in flight waited through
/// (docs/benchmarks.md). KEYS: stream. Returns how many entries were removed.
const Script kTrimScript("coupon-trim", std::string(kLuaFieldTable) + R"lua(
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if type(groups) ~= 'table' or groups.err or #groups == 0 then return 0 end
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local min_ms, min_seq
for _, flat in ipairs(groups) do
  local g = fields(flat)
  local ms, seq
  if g.pending > 0 then
    ms, seq = parse(redis.call('XPENDING', KEYS[1], g.name)[2])
  else
    ms, seq = parse(g['last-delivered-id'])
    seq = seq + 1
  end
  if not min_ms or ms < min_ms or (ms == min_ms and seq < min_seq) then
    min_ms, min_seq = ms, seq
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-%d', min_ms, min_seq))
)lua");

/// The counters of one template in one atomic read (a pipeline would interleave with issues).
/// KEYS: meta stock seq. Returns {meta exists, persisted, stock, seq exists, seq}.
const Script kCountersScript("coupon-counters", R"lua(
local m = redis.call('HMGET', KEYS[1], 'total', 'persisted')
local seq = redis.call('GET', KEYS[3])
return {m[1] and 1 or 0, tonumber(m[2] or '0'), tonumber(redis.call('GET', KEYS[2]) or '0'),
        seq and 1 or 0, tonumber(seq or '0')}
)lua");

/// Compare-and-set of the position counter and stock: applies only if the counter still reads
/// ARGV[1] ('' = absent). KEYS: seq stock meta; ARGV: expected, new seq, new stock. The stock may
/// rise, so a sold-out mark in 'gate' (the limit negated; see coupon_issue.lua) is lifted with it.
/// The template's generation ('restores') moves either way: user counts were restored just before
/// (see Restore), and every process's memory of sold-out answers must forget them.
const Script kRestoreScript("coupon-restore", R"lua(
redis.call('HINCRBY', KEYS[3], 'restores', 1)
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
local gate = tonumber(redis.call('HGET', KEYS[3], 'gate') or '')
if gate and gate < 0 then redis.call('HSET', KEYS[3], 'gate', tostring(-gate)) end
return 1
)lua");

/// The most stream entries one Redis command of the persister touches (see ReadGroup, Complete).
constexpr std::size_t kRedisChunk = 500;

/// Entries one XAUTOCLAIM may claim (it scans up to ten times as many pending ones; see Reclaim).
constexpr std::size_t kClaimStep = 100;

/// The state of a request, from the request-state hash: its own field (request id →
/// "I:user:pos:coupon" once persisted, "F:user:pos" once dead-lettered, "R:user:pos" when
/// replayed), else its entry's field (entry id → "p;user:coupon,user:coupon,..." once the
/// entry's wins are persisted: the k-th item is the k-th win, at position p + k, and an empty
/// item a win recorded on its own), else, while the win is waiting in the stream, "R:user:pos"
/// read from its entry (the issue script writes no state of its own): the k-th win of an entry
/// {p, w = "user:count,..."} is w's k-th item; an entry of one win (replayed) is {u, s, p, ...}.
/// One script, so no persist or dead-lettering can pass between the reads; both write the state
/// before the entry leaves the stream. KEYS: requests stream; ARGV: request id, its entry id, k.
const Script kRequestScript("coupon-request", R"lua(
local state = redis.call('HGET', KEYS[1], ARGV[1])
if state then return state end
local k = tonumber(ARGV[3])
local function kth(list)
  local i = 0
  for item in string.gmatch(list .. ',', '([^,]*),') do
    if i == k then return item end
    i = i + 1
  end
  return nil
end
local persisted = redis.call('HGET', KEYS[1], ARGV[2])
if persisted then
  local semi = string.find(persisted, ';', 1, true)
  local item = semi and kth(string.sub(persisted, semi + 1))
  local user, coupon = string.match(item or '', '^(%d+):(%d+)$')
  if user then
    local pos = tonumber(string.sub(persisted, 1, semi - 1)) + k
    return 'I:' .. user .. ':' .. string.format('%d', pos) .. ':' .. coupon
  end
end
local found = redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2])
if #found == 0 then return false end
local f = {}
local flat = found[1][2]
for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
if f.w and f.p then
  local user = string.match(kth(f.w) or '', '^(%d+):')
  if not user then return false end
  return 'R:' .. user .. ':' .. string.format('%d', tonumber(f.p) + k)
end
if k == 0 and f.u and f.p then return 'R:' .. f.u .. ':' .. f.p end
return false
)lua");

/// Moves one win to the dead-letter stream, once: a win whose request is FAILED already (its
/// entry redelivered after a crash between this and the acknowledgement) is not added again.
/// The failure count is kept, so such a redelivery dead-letters at its first failure; replay
/// removes it. KEYS: requests dlq meta; ARGV: request id, FAILED state, then the dead letter's
/// fields. Returns 1 if added, 0 if it was there.
const Script kDeadLetterWinScript("coupon-dead-letter", R"lua(
local state = redis.call('HGET', KEYS[1], ARGV[1])
if state and string.sub(state, 1, 2) == 'F:' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
redis.call('HINCRBY', KEYS[3], 'dead', 1)
return 1
)lua");

std::int64_t ToInt(std::string_view s) {
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

Error RedisError(const std::string& what, const Reply& r) {
    return Error::Unavailable("redis " + what + ": " + r.ToString());
}

/// Splits "a:b" into two positive integers.
std::optional<std::pair<std::int64_t, std::int64_t>> ParsePair(std::string_view item) {
    auto colon = item.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto a = ParseInt(item.substr(0, colon));
    auto b = ParseInt(item.substr(colon + 1));
    if (!a || !b || *a <= 0 || *b <= 0) return std::nullopt;
    return std::pair{*a, *b};
}

/// Appends the wins a stream entry carries: all of an issue-script call's, {p, w}, or one,
/// {u, s, p[, t, r]} (a replayed dead letter, which keeps its original request id and issue
/// time). An entry that does not decode is appended as one `malformed` IssueEntry.
void Decode(std::int64_t template_id, const StreamEntry& e, std::vector<IssueEntry>& out) {
    std::optional<std::int64_t> user, seq, pos, at, request;
    std::optional<std::string_view> wins;
    for (const auto& [k, v] : e.fields) {
        if (k == "u")
            user = ParseInt(v);
        else if (k == "s")
            seq = ParseInt(v);
        else if (k == "p")
            pos = ParseInt(v);
        else if (k == "t")
            at = ParseInt(v);
        else if (k == "r")
            request = ParseInt(v);
        else if (k == "w")
            wins = v;
    }
    // The issue time is the entry id's milliseconds (Redis's clock when it was won); replayed
    // entries carry it as 't'.
    const std::int64_t entry_ms = ToInt(std::string_view(e.id).substr(0, e.id.find('-')));
    auto win = [&](std::int64_t k, std::int64_t u, std::int64_t s) {
        IssueEntry w;
        w.entry_id = e.id;
        w.coupon.template_id = template_id;
        // A replayed win keeps the request id its client holds.
        w.coupon.request_id = request && !wins ? *request : RedisCouponStore::RequestIdOf(e.id, k);
        w.coupon.user_id = u;
        w.coupon.seq = s;
        w.coupon.position = *pos + k;
        w.coupon.issued_at = at ? *at : entry_ms;
        return w;
    };
    const std::size_t before = out.size();
    bool ok = pos && *pos > 0;
    if (ok && wins) {
        std::int64_t k = 0;
        std::string_view rest = *wins;
        while (ok && !rest.empty()) {
            auto comma = rest.find(',');
            auto pair = ParsePair(rest.substr(0, comma));
            ok = pair && k < 1000;
            if (ok) out.push_back(win(k++, pair->first, pair->second));
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
        ok = ok && k > 0;
    } else if (ok) {
        ok = user && seq && *user > 0 && *seq > 0;
        if (ok) out.push_back(win(0, *user, *seq));
    }
    if (ok) {
        for (std::size_t i = before; i < out.size(); ++i) ok = ok && out[i].coupon.request_id > 0;
    }
    if (!ok) {
        out.resize(before);
        IssueEntry bad;
        bad.entry_id = e.id;
        bad.coupon.template_id = template_id;
        bad.malformed = true;
        bad.raw_fields = e.fields;
        out.push_back(std::move(bad));
    }
}

std::vector<IssueEntry> DecodeAll(std::int64_t template_id,
                                  const std::vector<StreamEntry>& entries) {
    std::vector<IssueEntry> out;
    out.reserve(entries.size());
    for (const auto& e : entries) {
        if (e.fields.empty()) continue;  // deleted while pending
        Decode(template_id, e, out);
    }
    return out;
}

/// "coupon-issue:{42}" → 42.
std::optional<std::int64_t> TemplateOfStream(const std::string& stream) {
    const std::string prefix = "coupon-issue:{";
    if (stream.rfind(prefix, 0) != 0 || stream.back() != '}') return std::nullopt;
    return ParseInt(
        std::string_view(stream).substr(prefix.size(), stream.size() - prefix.size() - 1));
}

}  // namespace

std::int64_t RedisCouponStore::RequestIdOf(const std::string& entry_id, std::int64_t index) {
    auto dash = entry_id.find('-');
    if (dash == std::string::npos || index < 0 || index >= 1000) return 0;
    auto ms = ParseInt(std::string_view(entry_id).substr(0, dash));
    auto seq = ParseInt(std::string_view(entry_id).substr(dash + 1));
    if (!ms || !seq || *ms <= 0 || *ms >= 9'000'000'000'000 || *seq < 0 || *seq >= 1000) return 0;
    return *ms * 1'000'000 + *seq * 1'000 + index;
}

std::string RedisCouponStore::EntryIdOf(std::int64_t request_id) {
    return std::to_string(request_id / 1'000'000) + "-" +
           std::to_string(request_id % 1'000'000 / 1'000);
}

RedisCouponStore::RedisCouponStore(std::shared_ptr<Client> client, CouponStoreSettings settings)
    : client_(std::move(client)),
      batcher_(std::make_unique<CouponIssueBatcher>(client_,
                                                    settings.rate_limit_per_second,
                                                    settings.issue_batch,
                                                    settings.issue_in_flight,
                                                    settings.sold_out_memo)) {}

RedisCouponStore::~RedisCouponStore() = default;

Awaitable<Result<IssueDecision>> RedisCouponStore::TryIssue(std::int64_t t, std::int64_t user_id) {
    // The batcher's own awaitable, not a coroutine around it: one frame less on every request.
    return batcher_->Issue(t, user_id);
}

Awaitable<Status> RedisCouponStore::Publish(const CouponTemplate& t, std::int64_t already_issued) {
    auto opt = [](const std::optional<EpochMs>& v) {
        return v ? std::to_string(*v) : std::string();
    };
    // 'gate' lets the issue script skip status and window for the common case (see the script):
    // the per-user limit when issuing needs no further check, else empty. One HSET with the
    // fields it is derived from, so the two never disagree.
    const bool open_without_window =
        t.status == TemplateStatus::kActive && !t.start_at && !t.end_at;
    std::vector<Args> batch;
    batch.push_back(
        MakeArgs("HSET", keys::Meta(t.id), "status", std::string(ToString(t.status)), "start_at",
                 opt(t.start_at), "end_at", opt(t.end_at), "limit",
                 std::to_string(t.per_user_limit), "total", std::to_string(t.total_quantity),
                 "gate", open_without_window ? std::to_string(t.per_user_limit) : std::string()));
    batch.push_back(MakeArgs(
        "SET", keys::Stock(t.id),
        std::to_string(std::max<std::int64_t>(0, t.total_quantity - already_issued)), "NX"));
    batch.push_back(MakeArgs("SADD", keys::kTemplates, std::to_string(t.id)));
    batch.push_back(
        MakeArgs("XGROUP", "CREATE", keys::Stream(t.id), keys::kGroup, "0", "MKSTREAM"));
    auto r = co_await client_->Batch(std::move(batch));
    // A status or window written (or perhaps written) is seen by this process's next request.
    batcher_->ForgetSoldOut();
    if (!r) co_return r.error();
    for (std::size_t i = 0; i < r->size(); ++i) {
        const Reply& reply = (*r)[i];
        if (reply.IsError() && !(i == 3 && reply.IsErrorCode("BUSYGROUP")))
            co_return RedisError("publishing template", reply);
    }
    co_return Status{};
}

Awaitable<Result<std::optional<IssueRequestState>>> RedisCouponStore::FindRequest(
    std::int64_t t, std::int64_t request_id) {
    using Out = std::optional<IssueRequestState>;
    if (request_id <= 0) co_return Out{};
    std::vector<std::string> script_keys{keys::Requests(t), keys::Stream(t)};
    std::vector<std::string> script_args{std::to_string(request_id), EntryIdOf(request_id),
                                         std::to_string(request_id % 1000)};
    auto r = co_await client_->Eval(kRequestScript, script_keys, script_args);
    if (!r) co_return r.error();
    if (r->IsNil()) co_return Out{};
    if (!r->IsString()) co_return RedisError("coupon-request script", *r);
    // "R:user:pos", "I:user:pos:coupon", "F:user:pos"
    std::vector<std::string_view> parts;
    std::string_view s = r->str;
    for (std::size_t start = 0;;) {
        auto colon = s.find(':', start);
        parts.push_back(s.substr(start, colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    if (parts.size() < 3) co_return RedisError("request state", *r);
    IssueRequestState st;
    st.kind = parts[0] == "I"   ? IssueRequestState::Kind::kIssued
              : parts[0] == "F" ? IssueRequestState::Kind::kFailed
                                : IssueRequestState::Kind::kReserved;
    st.user_id = ToInt(parts[1]);
    st.position = ToInt(parts[2]);
    if (parts.size() > 3) st.coupon_id = ToInt(parts[3]);
    co_return Out{st};
}

Awaitable<Result<TemplateCounters>> RedisCouponStore::Counters(std::int64_t t) {
    std::vector<std::string> script_keys;
    script_keys.push_back(keys::Meta(t));
    script_keys.push_back(keys::Stock(t));
    script_keys.push_back(keys::Seq(t));
    std::vector<std::string> no_args;
    auto r = co_await client_->Eval(kCountersScript, script_keys, no_args);
    if (!r) co_return r.error();
    if (!r->IsArray() || r->elements.size() != 5) co_return RedisError("coupon-counters", *r);
    const auto& e = r->elements;
    TemplateCounters c;
    c.known = e[0].integer == 1;
    c.persisted = e[1].integer;
    c.stock = e[2].integer;
    c.has_seq = e[3].integer == 1;
    c.reserved = e[4].integer;
    co_return c;
}

Awaitable<Result<bool>> RedisCouponStore::Restore(
    const CouponTemplate& t,
    const TemplateCounters& seen,
    std::int64_t reserved,
    const std::vector<std::pair<std::int64_t, std::int64_t>>& user_counts) {
    if (auto st = co_await Publish(t, reserved); !st) co_return st.error();
    // Users Redis forgot get their database count back; a count Redis still has is left alone
    // (it may include a win that is still in the stream).
    if (!user_counts.empty()) {
        std::vector<Args> batch;
        for (const auto& [user, count] : user_counts)
            batch.push_back(
                MakeArgs("HSETNX", keys::Users(t.id), std::to_string(user), std::to_string(count)));
        auto r = co_await client_->Batch(std::move(batch));
        if (!r) co_return r.error();
    }
    std::vector<std::string> script_keys;
    script_keys.push_back(keys::Seq(t.id));
    script_keys.push_back(keys::Stock(t.id));
    script_keys.push_back(keys::Meta(t.id));
    std::vector<std::string> script_args;
    script_args.push_back(seen.has_seq ? std::to_string(seen.reserved) : std::string());
    script_args.push_back(std::to_string(reserved));
    script_args.push_back(std::to_string(std::max<std::int64_t>(0, t.total_quantity - reserved)));
    auto r = co_await client_->Eval(kRestoreScript, script_keys, script_args);
    batcher_->ForgetSoldOut();  // the script moved the generation too, for other processes
    if (!r) co_return r.error();
    if (!r->IsInteger()) co_return RedisError("coupon-restore", *r);
    co_return r->integer == 1;
}

Awaitable<Result<std::vector<std::int64_t>>> RedisCouponStore::Templates() {
    auto r = co_await client_->Command(MakeArgs("SMEMBERS", keys::kTemplates));
    if (!r) co_return r.error();
    if (!r->IsArray()) co_return RedisError("SMEMBERS", *r);
    std::vector<std::int64_t> out;
    for (const auto& e : r->elements)
        if (auto id = ParseInt(e.str)) out.push_back(*id);
    co_return out;
}

Awaitable<Status> RedisCouponStore::EnsureGroup(std::int64_t t) {
    auto r = co_await CreateGroup(*client_, keys::Stream(t), keys::kGroup, "0", true);
    if (!r) co_return r.error();
    co_return Status{};
}

Awaitable<Result<std::vector<IssueEntry>>> RedisCouponStore::ReadGroup(std::int64_t t,
                                                                       const std::string& consumer,
                                                                       int count,
                                                                       const std::string& from) {
    // Read in chunks of at most kRedisChunk entries: one XREADGROUP holds Redis for ~0.65 µs per
    // entry, and every issue request in flight waits behind it, whatever the database batch
    // size. `count` counts wins, and an entry carries one or up to a whole issue batch of them:
    // the first read asks for as many entries as full batches would fill, later ones as many as
    // the wins per entry read so far call for.
    XReadGroupOptions o;
    o.group = keys::kGroup;
    o.consumer = consumer;
    std::vector<IssueEntry> out;
    Args ack = MakeArgs("XACK", keys::Stream(t), keys::kGroup);
    std::string next = from;
    const std::size_t wanted = static_cast<std::size_t>(std::max(count, 1));
    std::size_t entries_read = 0;
    while (out.size() < wanted) {
        const std::size_t left = wanted - out.size();
        const std::size_t per_entry = entries_read == 0
                                          ? CouponIssueBatcher::kDefaultMaxBatch
                                          : std::max<std::size_t>(1, out.size() / entries_read);
        o.count = std::clamp<std::size_t>(left / per_entry, 1, kRedisChunk);
        std::vector<std::pair<std::string, std::string>> streams;
        streams.emplace_back(keys::Stream(t), next);
        auto r = co_await XReadGroup(*client_, o, std::move(streams));
        if (!r) {
            // The stream or group vanished (e.g. Redis lost its data): recreate, read nothing now.
            if (r.error().message.find("NOGROUP") != std::string::npos) co_await EnsureGroup(t);
            if (!out.empty()) break;  // deliver what was read; the next read reports it again
            co_return r.error();
        }
        std::size_t got = 0;
        for (const auto& read : *r) {
            got += read.entries.size();
            for (const auto& e : read.entries) {
                if (e.fields.empty())
                    ack.push_back(e.id);  // deleted while pending: nothing to do
                else
                    Decode(t, e, out);
            }
            // Pending entries are re-read from an id: continue after the last one. New ones
            // (">") continue by themselves.
            if (from != ">" && !read.entries.empty()) next = read.entries.back().id;
        }
        entries_read += got;
        if (got < o.count) break;  // nothing more to read now
    }
    if (ack.size() > 3) co_await client_->Command(std::move(ack));
    co_return out;
}

Awaitable<Result<std::vector<IssueEntry>>> RedisCouponStore::ReadPending(
    std::int64_t t, const std::string& consumer, int count) {
    co_return co_await ReadGroup(t, consumer, count, "0");
}

Awaitable<Result<std::vector<IssueEntry>>> RedisCouponStore::ReadNew(std::int64_t t,
                                                                     const std::string& consumer,
                                                                     int count) {
    co_return co_await ReadGroup(t, consumer, count, ">");
}

Awaitable<Result<std::vector<IssueEntry>>> RedisCouponStore::Reclaim(std::int64_t t,
                                                                     const std::string& consumer,
                                                                     std::int64_t min_idle_ms,
                                                                     int count) {
    const std::string stream = keys::Stream(t);
    auto call =
        client_->Eval(kStaleHoldersScript, {stream}, {keys::kGroup, std::to_string(min_idle_ms)});
    auto stale = co_await std::move(call);
    if (!stale) co_return stale.error();
    if (!stale->IsInteger()) co_return RedisError("coupon-stale-holders script", *stale);
    std::vector<IssueEntry> out;
    if (stale->integer == 0) co_return out;
    // XAUTOCLAIM scans up to ten times its COUNT: small steps from the returned cursor keep each
    // call short, so issue requests interleave with a sweep of a large pending list.
    const std::size_t wanted = static_cast<std::size_t>(std::max(count, 1));
    std::string start = "0-0";
    do {
        auto r = co_await XAutoClaim(*client_, stream, keys::kGroup, consumer,
                                     std::chrono::milliseconds(min_idle_ms), start,
                                     std::min(kClaimStep, wanted - out.size()));
        if (!r) {
            if (out.empty()) co_return r.error();
            break;  // what was claimed is ours now: hand it on, the next sweep does the rest
        }
        for (auto& e : DecodeAll(t, r->entries)) out.push_back(std::move(e));
        start = std::move(r->next_start);
    } while (start != "0-0" && out.size() < wanted);
    if (!out.empty()) {
        co_await client_->Command(
            MakeArgs("HINCRBY", keys::Meta(t), "retried", std::to_string(out.size())));
    }
    co_return out;
}

Awaitable<Result<std::int64_t>> RedisCouponStore::ForgetIdleConsumers(std::int64_t t,
                                                                      std::int64_t min_idle_ms) {
    const std::string stream = keys::Stream(t);
    const std::string min_idle = std::to_string(min_idle_ms);
    auto call = client_->Eval(kForgetConsumersScript, {stream}, {keys::kGroup, min_idle});
    auto r = co_await std::move(call);
    if (!r) co_return r.error();
    if (!r->IsInteger()) co_return RedisError("coupon-forget-consumers script", *r);
    co_return r->integer;
}

Awaitable<Status> RedisCouponStore::Complete(std::int64_t t,
                                             const std::vector<std::string>& entry_ids,
                                             const std::vector<PersistedCoupon>& persisted,
                                             const std::vector<IssueEntry>& wins) {
    if (entry_ids.empty() && wins.empty()) co_return Status{};
    // One pipeline, but no command over kRedisChunk wins or entries: Redis runs each command
    // whole, so the issue requests in flight wait at most one chunk. The states go first, the
    // acknowledgements after them (a request's state must exist before its entry can go).
    std::vector<Args> batch;
    const std::size_t n = std::min(wins.size(), persisted.size());
    // One state per entry for the wins at their place in it (one hash field instead of one per
    // win: ~90 fewer per entry in a drop), one per win for any other (a replayed win, whose
    // request id is not its entry's).
    Args states = MakeArgs("HSET", keys::Requests(t));
    std::size_t state_wins = 0;  // wins in `states`
    auto flush = [&](bool force) {
        if (state_wins > 0 && (force || state_wins >= kRedisChunk)) {
            batch.push_back(std::move(states));
            states = MakeArgs("HSET", keys::Requests(t));
            state_wins = 0;
        }
    };
    for (std::size_t begin = 0; begin < n;) {
        std::size_t end = begin;
        while (end < n && wins[end].entry_id == wins[begin].entry_id) ++end;
        const std::int64_t base = RequestIdOf(wins[begin].entry_id, 0);
        std::string items;         // item k is the k-th win's "user:coupon", or empty
        std::int64_t items_k = 0;  // the next item's k (items holds items_k - 1 commas)
        std::int64_t first_position = 0;
        for (std::size_t i = begin; i < end; ++i) {
            const auto& c = wins[i].coupon;
            const std::int64_t k = c.request_id - base;
            const bool in_place = base > 0 && k >= items_k && k < 1000 &&
                                  (items_k == 0 || c.position - k == first_position);
            if (!in_place) {
                states.push_back(std::to_string(c.request_id));
                states.push_back("I:" + std::to_string(c.user_id) + ":" +
                                 std::to_string(c.position) + ":" +
                                 std::to_string(persisted[i].coupon_id));
                ++state_wins;
                continue;
            }
            if (items_k == 0) first_position = c.position - k;
            for (std::int64_t commas = std::max<std::int64_t>(0, items_k - 1); commas < k; ++commas)
                items += ',';  // up to item k, past wins not recorded here
            items_k = k + 1;
            AppendDecimal(items, c.user_id);
            items += ':';
            AppendDecimal(items, persisted[i].coupon_id);
            ++state_wins;
        }
        if (items_k > 0) {
            states.push_back(wins[begin].entry_id);
            std::string value;
            AppendDecimal(value, first_position);
            value += ';';
            value += items;
            states.push_back(std::move(value));
        }
        flush(false);
        begin = end;
    }
    flush(true);
    for (std::size_t begin = 0; begin < n; begin += kRedisChunk) {
        Args fails = MakeArgs("HDEL", keys::Failures(t));
        for (std::size_t i = begin; i < std::min(n, begin + kRedisChunk); ++i)
            fails.push_back(std::to_string(wins[i].coupon.request_id));
        batch.push_back(std::move(fails));
    }
    if (n > 0) batch.push_back(MakeArgs("HINCRBY", keys::Meta(t), "persisted", std::to_string(n)));
    for (std::size_t begin = 0; begin < entry_ids.size(); begin += kRedisChunk) {
        Args ack = MakeArgs("XACK", keys::Stream(t), keys::kGroup);
        for (std::size_t i = begin; i < std::min(entry_ids.size(), begin + kRedisChunk); ++i)
            ack.push_back(entry_ids[i]);
        batch.push_back(std::move(ack));
    }
    auto r = co_await client_->Batch(std::move(batch));
    if (!r) co_return r.error();
    for (const auto& reply : *r)
        if (reply.IsError()) co_return RedisError("completing entries", reply);
    if (entry_ids.empty()) co_return Status{};
    // Acknowledged entries leave the stream by trimming, not by XDEL of each id. A failure here
    // loses nothing: the entries are acknowledged, and the next trim removes them too.
    const std::string stream = keys::Stream(t);
    std::vector<std::string> no_args;
    auto trim = client_->Eval(kTrimScript, {stream}, no_args);
    auto trimmed = co_await std::move(trim);
    if (!trimmed) co_return trimmed.error();
    if (!trimmed->IsInteger()) co_return RedisError("coupon-trim script", *trimmed);
    co_return Status{};
}

Awaitable<Result<std::int64_t>> RedisCouponStore::RecordFailure(std::int64_t t,
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

Awaitable<Status> RedisCouponStore::DeadLetter(std::int64_t t,
                                               const IssueEntry& win,
                                               const std::string& reason) {
    const auto& c = win.coupon;
    if (win.malformed) {
        // Nothing in it can be written or answered for: keep its fields as read, and let it go.
        std::vector<Args> batch;
        Args add = MakeArgs("XADD", keys::DeadLetters(t), "*");
        for (const auto& [k, v] : win.raw_fields) {
            if (k == "source" || k == "error") continue;
            add.push_back(k);
            add.push_back(v);
        }
        add.push_back("source");
        add.push_back(win.entry_id);
        add.push_back("error");
        add.push_back(reason);
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
    std::vector<std::string> script_args{
        std::to_string(c.request_id),
        "F:" + std::to_string(c.user_id) + ":" + std::to_string(c.position),
        "u",
        std::to_string(c.user_id),
        "s",
        std::to_string(c.seq),
        "p",
        std::to_string(c.position),
        "t",
        std::to_string(c.issued_at),
        "r",
        std::to_string(c.request_id),
        "source",
        win.entry_id,
        "error",
        reason};
    auto r = co_await client_->Eval(kDeadLetterWinScript, script_keys, script_args);
    if (!r) co_return r.error();
    if (!r->IsInteger()) co_return RedisError("coupon-dead-letter script", *r);
    co_return Status{};
}

Awaitable<Result<std::int64_t>> RedisCouponStore::Replay(const std::string& stream) {
    auto t = TemplateOfStream(stream);
    if (!t) co_return Error{ErrorCode::kNotFound, "no dead-letter stream for '" + stream + "'"};
    // Replay what is dead-lettered now, up to the last id seen at the start: an entry that fails
    // again and returns to the dead letters meanwhile is not replayed twice in one call.
    auto last = co_await client_->Command(
        MakeArgs("XREVRANGE", keys::DeadLetters(*t), "+", "-", "COUNT", "1"));
    if (!last) co_return last.error();
    auto newest = ParseStreamEntries(*last);
    if (!newest) co_return newest.error();
    if (newest->empty()) co_return std::int64_t{0};
    const std::string end_id = newest->front().id;
    std::string start = "-";
    std::int64_t replayed = 0;
    for (;;) {
        auto r = co_await client_->Command(
            MakeArgs("XRANGE", keys::DeadLetters(*t), start, end_id, "COUNT", "500"));
        if (!r) co_return r.error();
        auto entries = ParseStreamEntries(*r);
        if (!entries) co_return entries.error();
        if (entries->empty()) break;
        std::vector<Args> batch;
        Args del = MakeArgs("XDEL", keys::DeadLetters(*t));
        for (const auto& e : *entries) {
            Args add = MakeArgs("XADD", keys::Stream(*t), "*");
            std::string request, user, pos;
            for (const auto& [k, v] : e.fields) {
                if (k == "u" || k == "s" || k == "p" || k == "t" || k == "r") {
                    add.push_back(k);
                    add.push_back(v);
                }
                if (k == "r") request = v;
                if (k == "u") user = v;
                if (k == "p") pos = v;
            }
            batch.push_back(std::move(add));
            // RESERVED again, and its failures forgotten (the dead-lettering kept the count).
            if (auto rid = ParseInt(request)) {
                batch.push_back(
                    MakeArgs("HSET", keys::Requests(*t), request, "R:" + user + ":" + pos));
                batch.push_back(MakeArgs("HDEL", keys::Failures(*t), request));
            }
            del.push_back(e.id);
        }
        batch.push_back(std::move(del));
        auto br = co_await client_->Batch(std::move(batch));
        if (!br) co_return br.error();
        for (const auto& reply : *br)
            if (reply.IsError()) co_return RedisError("replaying dead letters", reply);
        replayed += static_cast<std::int64_t>(entries->size());
        start = "(" + entries->back().id;
    }
    co_return replayed;
}

Awaitable<Result<std::vector<StreamStats>>> RedisCouponStore::Stats() {
    auto templates = co_await Templates();
    if (!templates) co_return templates.error();
    std::vector<StreamStats> out;
    for (std::int64_t t : *templates) {
        std::vector<Args> batch;
        batch.push_back(MakeArgs("XLEN", keys::Stream(t)));
        batch.push_back(MakeArgs("XINFO", "GROUPS", keys::Stream(t)));
        batch.push_back(MakeArgs("XPENDING", keys::Stream(t), keys::kGroup, "-", "+", "1"));
        batch.push_back(MakeArgs("XLEN", keys::DeadLetters(t)));
        batch.push_back(MakeArgs("HMGET", keys::Meta(t), "retried", "dead"));
        auto r = co_await client_->Batch(std::move(batch));
        if (!r) co_return r.error();
        StreamStats s;
        s.name = keys::Stream(t);
        s.length = (*r)[0].integer;
        if (auto groups = ParseGroupsInfo((*r)[1])) {
            for (const auto& g : *groups) {
                if (g.name != keys::kGroup) continue;
                s.pending = g.pending;
                s.lag = g.lag.value_or(0);
                s.consumers = g.consumers;
            }
        }
        const Reply& oldest = (*r)[2];
        if (oldest.IsArray() && !oldest.elements.empty() && oldest.elements[0].IsArray() &&
            oldest.elements[0].elements.size() >= 3)
            s.oldest_pending_age_ms = oldest.elements[0].elements[2].integer;
        s.dead_letter_length = (*r)[3].integer;
        const Reply& meta = (*r)[4];
        if (meta.IsArray() && meta.elements.size() == 2) {
            if (meta.elements[0].IsString()) s.deliveries_retried = ToInt(meta.elements[0].str);
            if (meta.elements[1].IsString()) s.dead_lettered = ToInt(meta.elements[1].str);
        }
        out.push_back(std::move(s));
    }
    co_return out;
}

}  // namespace joopang::redis
