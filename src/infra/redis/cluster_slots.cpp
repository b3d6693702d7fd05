#include "infra/redis/cluster_slots.hpp"

#include <algorithm>
#include <charconv>

#include "infra/redis/crc16.hpp"
#include "infra/redis/numbers.hpp"

namespace joopang::redis {

namespace {
Error BadReply(const Reply& reply) {
    return Error::Unavailable("unexpected CLUSTER SLOTS reply: " + reply.ToString());
}
}  // namespace

Result<std::vector<SlotRange>> ParseClusterSlots(const Reply& reply, const Endpoint& queried) {
    if (!reply.IsArray()) return BadReply(reply);
    std::vector<SlotRange> out;
    for (const auto& range : reply.elements) {
        if (!range.IsArray() || range.elements.size() < 3 || !range.elements[0].IsInteger() ||
            !range.elements[1].IsInteger() || !range.elements[2].IsArray() ||
            range.elements[2].elements.size() < 2) {
            return BadReply(reply);
        }
        const auto& node = range.elements[2].elements;
        if (!node[0].IsString() || !node[1].IsInteger()) return BadReply(reply);
        SlotRange r;
        r.first = static_cast<int>(range.elements[0].integer);
        r.last = static_cast<int>(range.elements[1].integer);
        if (r.first < 0 || r.last >= kClusterSlots || r.first > r.last) return BadReply(reply);
        r.master = queried;
        r.master.kind = Endpoint::Kind::kTcp;
        if (!node[0].str.empty() && node[0].str != "?") r.master.host = node[0].str;
        r.master.port = static_cast<std::uint16_t>(node[1].integer);
        out.push_back(std::move(r));
    }
    return out;
}

std::optional<Redirect> ParseRedirect(const Reply& reply, const Endpoint& credentials_from) {
    if (!reply.IsError()) return std::nullopt;
    std::string_view s = reply.str;
    Redirect out{};
    if (s.starts_with("MOVED ")) {
        out.kind = Redirect::Kind::kMoved;
        s.remove_prefix(6);
    } else if (s.starts_with("ASK ")) {
        out.kind = Redirect::Kind::kAsk;
        s.remove_prefix(4);
    } else {
        return std::nullopt;
    }
    const auto space = s.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto slot = ParseInteger<int>(s.substr(0, space));
    if (!slot || *slot < 0 || *slot >= kClusterSlots) return std::nullopt;
    out.slot = *slot;
    std::string_view target = s.substr(space + 1);
    if (target.starts_with(":")) {  // ":port" means "the host you are talking to"
        std::string full = credentials_from.host + std::string(target);
        auto ep = ParseHostPort(full);
        if (!ep) return std::nullopt;
        out.target = *ep;
    } else {
        auto ep = ParseHostPort(target);
        if (!ep) return std::nullopt;
        out.target = *ep;
    }
    out.target.username = credentials_from.username;
    out.target.password = credentials_from.password;
    return out;
}

SlotMap::SlotMap() : owner_(kClusterSlots, -1) {}

int SlotMap::IndexOf(const Endpoint& ep) {
    auto it = std::find(nodes_.begin(), nodes_.end(), ep);
    if (it != nodes_.end()) return static_cast<int>(it - nodes_.begin());
    nodes_.push_back(ep);
    return static_cast<int>(nodes_.size() - 1);
}

void SlotMap::Assign(const std::vector<SlotRange>& ranges) {
    nodes_.clear();
    std::fill(owner_.begin(), owner_.end(), -1);
    for (const auto& r : ranges) {
        const short idx = static_cast<short>(IndexOf(r.master));
        for (int s = r.first; s <= r.last; ++s) owner_[static_cast<std::size_t>(s)] = idx;
    }
}

void SlotMap::SetOwner(int slot, const Endpoint& owner) {
    owner_[static_cast<std::size_t>(slot)] = static_cast<short>(IndexOf(owner));
}

const Endpoint* SlotMap::Owner(int slot) const {
    const short idx = owner_[static_cast<std::size_t>(slot)];
    return idx < 0 ? nullptr : &nodes_[static_cast<std::size_t>(idx)];
}

std::vector<Endpoint> SlotMap::ServingNodes() const {
    std::vector<bool> used(nodes_.size(), false);
    for (short idx : owner_) {
        if (idx >= 0) used[static_cast<std::size_t>(idx)] = true;
    }
    std::vector<Endpoint> out;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (used[i]) out.push_back(nodes_[i]);
    }
    return out;
}

bool SlotMap::Empty() const {
    return std::all_of(owner_.begin(), owner_.end(), [](short i) { return i < 0; });
}

}  // namespace joopang::redis
