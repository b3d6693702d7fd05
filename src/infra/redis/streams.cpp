#include "infra/redis/streams.hpp"

#include <charconv>

#include "infra/redis/numbers.hpp"

namespace joopang::redis {

namespace {

Error Unexpected(std::string_view what, const Reply& reply) {
    return Error::Internal("redis " + std::string(what) + ": unexpected reply " + reply.ToString());
}

Error FromErrorReply(std::string_view what, const Reply& reply) {
    // A missing stream or consumer group is its own code, so callers can recreate it without
    // reading Redis's error text.
    if (reply.IsErrorCode("NOGROUP"))
        return Error{ErrorCode::kNotFound, "redis " + std::string(what) + ": " + reply.str};
    return Error::Internal("redis " + std::string(what) + ": " + reply.str);
}

// Common tail of every helper: transport error, error reply or a reply to parse.
template <class Parse>
auto Finish(std::string_view what, Result<Reply> reply, Parse parse)
    -> decltype(parse(std::declval<const Reply&>())) {
    if (!reply) return reply.error();
    if (reply->IsError()) return FromErrorReply(what, *reply);
    return parse(*reply);
}

long long ToInteger(const Reply& r) {
    if (r.IsInteger()) return r.integer;
    return r.IsString() ? ParseInteger<long long>(r.str).value_or(0) : 0;
}

// Visits the key/value pairs of a flat RESP2 map.
template <class F>
bool ForEachField(const Reply& map, F&& f) {
    if (!map.IsArray() || map.elements.size() % 2 != 0) return false;
    for (std::size_t i = 0; i < map.elements.size(); i += 2) {
        if (!map.elements[i].IsString()) return false;
        f(std::string_view(map.elements[i].str), map.elements[i + 1]);
    }
    return true;
}

}  // namespace

Result<StreamEntry> ParseStreamEntry(const Reply& reply) {
    if (!reply.IsArray() || reply.elements.size() != 2 || !reply.elements[0].IsString()) {
        return Unexpected("stream entry", reply);
    }
    StreamEntry e;
    e.id = reply.elements[0].str;
    const Reply& fields = reply.elements[1];
    if (fields.IsNil()) return e;
    if (!fields.IsArray() || fields.elements.size() % 2 != 0) {
        return Unexpected("stream entry", reply);
    }
    e.fields.reserve(fields.elements.size() / 2);
    for (std::size_t i = 0; i < fields.elements.size(); i += 2) {
        e.fields.emplace_back(fields.elements[i].str, fields.elements[i + 1].str);
    }
    return e;
}

Result<std::vector<StreamEntry>> ParseStreamEntries(const Reply& reply) {
    if (reply.IsNil()) return std::vector<StreamEntry>{};
    if (!reply.IsArray()) return Unexpected("stream entries", reply);
    std::vector<StreamEntry> out;
    out.reserve(reply.elements.size());
    for (const auto& r : reply.elements) {
        if (r.IsNil()) continue;
        auto e = ParseStreamEntry(r);
        if (!e) return e.error();
        out.push_back(std::move(*e));
    }
    return out;
}

Result<std::vector<StreamRead>> ParseStreamRead(const Reply& reply) {
    std::vector<StreamRead> out;
    if (reply.IsNil()) return out;
    if (!reply.IsArray()) return Unexpected("XREADGROUP", reply);
    for (const auto& s : reply.elements) {
        if (!s.IsArray() || s.elements.size() != 2 || !s.elements[0].IsString()) {
            return Unexpected("XREADGROUP", reply);
        }
        auto entries = ParseStreamEntries(s.elements[1]);
        if (!entries) return entries.error();
        out.push_back(StreamRead{s.elements[0].str, std::move(*entries)});
    }
    return out;
}

Result<AutoClaimResult> ParseAutoClaim(const Reply& reply) {
    if (!reply.IsArray() || reply.elements.size() < 2 || !reply.elements[0].IsString()) {
        return Unexpected("XAUTOCLAIM", reply);
    }
    AutoClaimResult out;
    out.next_start = reply.elements[0].str;
    auto entries = ParseStreamEntries(reply.elements[1]);
    if (!entries) return entries.error();
    out.entries = std::move(*entries);
    if (reply.elements.size() >= 3 && reply.elements[2].IsArray()) {
        for (const auto& id : reply.elements[2].elements) out.deleted_ids.push_back(id.str);
    }
    return out;
}

Result<PendingSummary> ParsePendingSummary(const Reply& reply) {
    if (!reply.IsArray() || reply.elements.size() != 4 || !reply.elements[0].IsInteger()) {
        return Unexpected("XPENDING", reply);
    }
    PendingSummary out;
    out.count = reply.elements[0].integer;
    out.min_id = reply.elements[1].str;
    out.max_id = reply.elements[2].str;
    if (reply.elements[3].IsArray()) {
        for (const auto& c : reply.elements[3].elements) {
            if (!c.IsArray() || c.elements.size() != 2) return Unexpected("XPENDING", reply);
            out.consumers.emplace_back(c.elements[0].str, ToInteger(c.elements[1]));
        }
    }
    return out;
}

Result<StreamInfo> ParseStreamInfo(const Reply& reply) {
    StreamInfo out;
    std::optional<Error> error;
    const bool ok = ForEachField(reply, [&](std::string_view key, const Reply& value) {
        if (key == "length") {
            out.length = ToInteger(value);
        } else if (key == "groups") {
            out.groups = ToInteger(value);
        } else if (key == "last-generated-id") {
            out.last_generated_id = value.str;
        } else if (key == "first-entry" || key == "last-entry") {
            if (value.IsNil()) return;
            auto e = ParseStreamEntry(value);
            if (!e) {
                error = e.error();
                return;
            }
            (key == "first-entry" ? out.first_entry : out.last_entry) = std::move(*e);
        }
    });
    if (!ok) return Unexpected("XINFO STREAM", reply);
    if (error) return *error;
    return out;
}

Result<std::vector<GroupInfo>> ParseGroupsInfo(const Reply& reply) {
    if (!reply.IsArray()) return Unexpected("XINFO GROUPS", reply);
    std::vector<GroupInfo> out;
    for (const auto& g : reply.elements) {
        GroupInfo info;
        const bool ok = ForEachField(g, [&](std::string_view key, const Reply& value) {
            if (key == "name") {
                info.name = value.str;
            } else if (key == "consumers") {
                info.consumers = ToInteger(value);
            } else if (key == "pending") {
                info.pending = ToInteger(value);
            } else if (key == "last-delivered-id") {
                info.last_delivered_id = value.str;
            } else if (key == "entries-read") {
                if (!value.IsNil()) info.entries_read = ToInteger(value);
            } else if (key == "lag") {
                if (!value.IsNil()) info.lag = ToInteger(value);
            }
        });
        if (!ok) return Unexpected("XINFO GROUPS", reply);
        out.push_back(std::move(info));
    }
    return out;
}

Awaitable<Result<std::string>> XAdd(
    Client& client, std::string key, StreamFields fields, XAddOptions options, CallOptions opts) {
    Args args;
    args.reserve(6 + 2 * fields.size());
    args.emplace_back("XADD");
    args.push_back(std::move(key));
    if (options.no_mkstream) args.emplace_back("NOMKSTREAM");
    if (options.max_len) {
        args.emplace_back("MAXLEN");
        args.emplace_back(options.approximate ? "~" : "=");
        args.push_back(std::to_string(*options.max_len));
    }
    args.push_back(std::move(options.id));
    for (auto& [f, v] : fields) {
        args.push_back(std::move(f));
        args.push_back(std::move(v));
    }
    auto reply = co_await client.Command(std::move(args), opts);
    co_return Finish("XADD", std::move(reply), [](const Reply& r) -> Result<std::string> {
        if (r.IsNil()) return std::string();
        if (!r.IsString()) return Unexpected("XADD", r);
        return r.str;
    });
}

Awaitable<Result<std::vector<StreamRead>>> XReadGroup(
    Client& client,
    XReadGroupOptions options,
    std::vector<std::pair<std::string, std::string>> streams,
    CallOptions opts) {
    Args args{"XREADGROUP", "GROUP", std::move(options.group), std::move(options.consumer)};
    if (options.count > 0) {
        args.emplace_back("COUNT");
        args.push_back(std::to_string(options.count));
    }
    if (options.block) {
        args.emplace_back("BLOCK");
        args.push_back(std::to_string(options.block->count()));
    }
    if (options.no_ack) args.emplace_back("NOACK");
    args.emplace_back("STREAMS");
    for (const auto& s : streams) args.push_back(s.first);
    for (auto& s : streams) args.push_back(std::move(s.second));

    Result<Reply> reply = Error::Internal("unset");
    if (options.block) {
        if (opts.timeout.count() == 0) opts.timeout = *options.block + std::chrono::seconds(2);
        reply = co_await client.BlockingCommand(std::move(args), opts);
    } else {
        reply = co_await client.Command(std::move(args), opts);
    }
    co_return Finish("XREADGROUP", std::move(reply), ParseStreamRead);
}

Awaitable<Result<long long>> XAck(Client& client,
                                  std::string key,
                                  std::string group,
                                  std::vector<std::string> ids,
                                  CallOptions opts) {
    Args args;
    args.reserve(3 + ids.size());
    args.emplace_back("XACK");
    args.push_back(std::move(key));
    args.push_back(std::move(group));
    for (auto& id : ids) args.push_back(std::move(id));
    auto reply = co_await client.Command(std::move(args), opts);
    co_return Finish("XACK", std::move(reply), [](const Reply& r) -> Result<long long> {
        if (!r.IsInteger()) return Unexpected("XACK", r);
        return r.integer;
    });
}

Awaitable<Result<AutoClaimResult>> XAutoClaim(Client& client,
                                              std::string key,
                                              std::string group,
                                              std::string consumer,
                                              std::chrono::milliseconds min_idle,
                                              std::string start,
                                              std::size_t count,
                                              CallOptions opts) {
    Args args{"XAUTOCLAIM",
              std::move(key),
              std::move(group),
              std::move(consumer),
              std::to_string(min_idle.count()),
              std::move(start),
              "COUNT",
              std::to_string(count)};
    auto reply = co_await client.Command(std::move(args), opts);
    co_return Finish("XAUTOCLAIM", std::move(reply), ParseAutoClaim);
}

Awaitable<Result<PendingSummary>> XPendingSummary(Client& client,
                                                  std::string key,
                                                  std::string group,
                                                  CallOptions opts) {
    Args args{"XPENDING", std::move(key), std::move(group)};
    auto reply = co_await client.Command(std::move(args), opts);
    co_return Finish("XPENDING", std::move(reply), ParsePendingSummary);
}

Awaitable<Result<StreamInfo>> XInfoStream(Client& client, std::string key, CallOptions opts) {
    Args args{"XINFO", "STREAM", std::move(key)};
    auto reply = co_await client.Command(std::move(args), opts);
    co_return Finish("XINFO STREAM", std::move(reply), ParseStreamInfo);
}

Awaitable<Result<std::vector<GroupInfo>>> XInfoGroups(Client& client,
                                                      std::string key,
                                                      CallOptions opts) {
    Args args{"XINFO", "GROUPS", std::move(key)};
    auto reply = co_await client.Command(std::move(args), opts);
    co_return Finish("XINFO GROUPS", std::move(reply), ParseGroupsInfo);
}

Args CreateGroupArgs(std::string key, std::string group, std::string start_id, bool mkstream) {
    Args args{"XGROUP", "CREATE", std::move(key), std::move(group), std::move(start_id)};
    if (mkstream) args.emplace_back("MKSTREAM");
    return args;
}

Result<bool> ParseCreateGroup(const Reply& reply) {
    if (reply.IsErrorCode("BUSYGROUP")) return false;
    if (reply.IsError()) return FromErrorReply("XGROUP CREATE", reply);
    return true;
}

Awaitable<Result<bool>> CreateGroup(Client& client,
                                    std::string key,
                                    std::string group,
                                    std::string start_id,
                                    bool mkstream,
                                    CallOptions opts) {
    auto reply = co_await client.Command(
        CreateGroupArgs(std::move(key), std::move(group), std::move(start_id), mkstream), opts);
    if (!reply) co_return reply.error();
    co_return ParseCreateGroup(*reply);
}

}  // namespace joopang::redis
