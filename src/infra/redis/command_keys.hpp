#pragma once
/// Which arguments of a command are keys, for cluster routing. Covers the commands joopang uses
/// and the usual multi-key ones (DEL, MGET, MSET, EVAL/EVALSHA, XREAD/XREADGROUP, Z*STORE, …);
/// any other command is taken to have its key at position 1, and keyless commands (PING, INFO,
/// SCRIPT, CLUSTER, …) have none.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace joopang::redis {

/// Positions in `args` (args[0] is the command name) that hold keys.
std::vector<std::size_t> KeyIndices(std::span<const std::string> args);

/// The slot a command must run on.
struct CommandSlot {
    enum class Kind { kNoKey, kSlot, kCrossSlot };
    Kind kind = Kind::kNoKey;
    int slot = -1;  // kSlot: the slot of every key; kCrossSlot: the first key's slot
};
CommandSlot SlotOfCommand(std::span<const std::string> args);

}  // namespace joopang::redis
