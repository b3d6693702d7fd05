#pragma once
/// The cluster's slot map: which master serves each of the 16384 slots, learnt from CLUSTER SLOTS
/// and patched by MOVED redirections. A plain value; the cluster client guards it with a mutex.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "infra/redis/endpoint.hpp"
#include "infra/redis/reply.hpp"

namespace joopang::redis {

struct SlotRange {
    int first = 0;
    int last = 0;  // inclusive
    Endpoint master;
};

/// Parses a CLUSTER SLOTS reply. A node announced with an empty host or "?" gets the host of
/// `queried` (the node that answered); every node inherits `queried`'s credentials.
Result<std::vector<SlotRange>> ParseClusterSlots(const Reply& reply, const Endpoint& queried);

/// Parses the text of a MOVED or ASK error reply ("MOVED 3999 127.0.0.1:6381").
struct Redirect {
    enum class Kind { kMoved, kAsk };
    Kind kind;
    int slot;
    Endpoint target;
};
std::optional<Redirect> ParseRedirect(const Reply& reply, const Endpoint& credentials_from);

class SlotMap {
  public:
    SlotMap();
    /// Replaces the whole map.
    void Assign(const std::vector<SlotRange>& ranges);
    /// Points one slot at `owner` (after MOVED).
    void SetOwner(int slot, const Endpoint& owner);
    /// The master serving `slot`, or nullptr when the slot is not covered.
    const Endpoint* Owner(int slot) const;
    /// Every master in the map (including ones no slot points at any more after SetOwner()).
    const std::vector<Endpoint>& Nodes() const { return nodes_; }
    /// Masters that own at least one slot.
    std::vector<Endpoint> ServingNodes() const;
    bool Empty() const;

  private:
    int IndexOf(const Endpoint& ep);
    std::vector<Endpoint> nodes_;
    std::vector<short> owner_;  // slot -> index in nodes_, -1 = uncovered
};

}  // namespace joopang::redis
