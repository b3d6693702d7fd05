#include "infra/redis/command_keys.hpp"

#include <charconv>
#include <string_view>

#include "common/ascii.hpp"
#include "infra/redis/crc16.hpp"
#include "infra/redis/numbers.hpp"

namespace joopang::redis {

namespace {

bool Is(std::string_view name, std::string_view upper) { return AsciiIEquals(name, upper); }

template <class... Names>
bool IsAny(std::string_view name, Names... names) {
    return (Is(name, names) || ...);
}

long NumberAt(std::span<const std::string> args, std::size_t i) {
    if (i >= args.size()) return 0;
    return ParseInteger<long>(args[i]).value_or(0);
}

// Calls f(index) for each key position of the command.
template <class F>
void ForEachKey(std::span<const std::string> args, F&& f) {
    const std::size_t n = args.size();
    if (n < 2) return;
    const std::string_view cmd = args[0];
    auto range = [&](std::size_t first, std::size_t last_exclusive, std::size_t step) {
        for (std::size_t i = first; i < last_exclusive && i < n; i += step) f(i);
    };
    if (IsAny(cmd, "PING", "ECHO", "INFO", "SCRIPT", "CLUSTER", "CONFIG", "FLUSHALL", "FLUSHDB",
              "DBSIZE", "TIME", "CLIENT", "COMMAND", "HELLO", "AUTH", "SELECT", "READONLY",
              "READWRITE", "FUNCTION", "DEBUG", "SLOWLOG", "ASKING", "MULTI", "EXEC", "DISCARD",
              "UNWATCH", "WAIT", "LASTSAVE", "SAVE", "BGSAVE", "PUBLISH", "ROLE", "MEMORY",
              "LATENCY", "KEYS", "SCAN", "RANDOMKEY", "SHUTDOWN", "ACL", "MODULE", "QUIT")) {
        return;
    }
    if (IsAny(cmd, "DEL", "UNLINK", "EXISTS", "TOUCH", "MGET", "WATCH", "SINTER", "SUNION", "SDIFF",
              "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE", "PFCOUNT", "PFMERGE", "RENAME",
              "RENAMENX", "RPOPLPUSH", "SMOVE", "LMOVE", "BLMOVE", "BRPOPLPUSH", "COPY",
              "ZRANGESTORE", "GEOSEARCHSTORE")) {
        std::size_t last = n;
        if (IsAny(cmd, "RENAME", "RENAMENX", "RPOPLPUSH", "SMOVE", "LMOVE", "BLMOVE", "BRPOPLPUSH",
                  "COPY", "ZRANGESTORE", "GEOSEARCHSTORE")) {
            last = 3;
        }
        range(1, last, 1);
        return;
    }
    if (IsAny(cmd, "BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX")) {
        range(1, n - 1, 1);  // the last argument is the timeout
        return;
    }
    if (IsAny(cmd, "MSET", "MSETNX")) {
        range(1, n, 2);
        return;
    }
    if (IsAny(cmd, "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO")) {
        const long keys = NumberAt(args, 2);
        if (keys > 0) range(3, 3 + static_cast<std::size_t>(keys), 1);
        return;
    }
    if (IsAny(cmd, "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE")) {
        f(1);
        const long keys = NumberAt(args, 2);
        if (keys > 0) range(3, 3 + static_cast<std::size_t>(keys), 1);
        return;
    }
    if (IsAny(cmd, "ZUNION", "ZINTER", "ZDIFF", "SINTERCARD", "ZINTERCARD", "LMPOP", "ZMPOP")) {
        const long keys = NumberAt(args, 1);
        if (keys > 0) range(2, 2 + static_cast<std::size_t>(keys), 1);
        return;
    }
    if (IsAny(cmd, "BLMPOP", "BZMPOP")) {
        const long keys = NumberAt(args, 2);
        if (keys > 0) range(3, 3 + static_cast<std::size_t>(keys), 1);
        return;
    }
    if (IsAny(cmd, "BITOP")) {
        range(2, n, 1);
        return;
    }
    if (IsAny(cmd, "OBJECT", "XINFO", "XGROUP")) {
        if (n >= 3) f(2);
        return;
    }
    if (IsAny(cmd, "XREAD", "XREADGROUP")) {
        for (std::size_t i = 1; i < n; ++i) {
            if (Is(args[i], "STREAMS")) {
                const std::size_t count = (n - i - 1) / 2;
                range(i + 1, i + 1 + count, 1);
                return;
            }
        }
        return;
    }
    f(1);
}

}  // namespace

std::vector<std::size_t> KeyIndices(std::span<const std::string> args) {
    std::vector<std::size_t> out;
    ForEachKey(args, [&](std::size_t i) { out.push_back(i); });
    return out;
}

CommandSlot SlotOfCommand(std::span<const std::string> args) {
    CommandSlot out;
    ForEachKey(args, [&](std::size_t i) {
        const int slot = KeySlot(args[i]);
        if (out.kind == CommandSlot::Kind::kNoKey) {
            out.kind = CommandSlot::Kind::kSlot;
            out.slot = slot;
        } else if (out.slot != slot) {
            out.kind = CommandSlot::Kind::kCrossSlot;
        }
    });
    return out;
}

}  // namespace joopang::redis
