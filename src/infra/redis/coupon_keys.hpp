#pragma once
/// Every Redis key of coupon drops, named in one place. All keys of one template share the hash
/// tag `{<id>}`, so the issue script touches one cluster slot.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/decimal.hpp"

namespace joopang::redis::coupon_keys {

inline std::string Tag(std::int64_t t) {
    std::string tag = "{";  // built by appending: GCC 12 warns falsely (-Wrestrict) on "{" + s
    tag += std::to_string(t);
    tag += '}';
    return tag;
}
/// HASH status, start_at, end_at, limit, total, persisted, retried, dead.
inline std::string Meta(std::int64_t t) { return "coupon:" + Tag(t) + ":meta"; }
/// Coupons left.
inline std::string Stock(std::int64_t t) { return "coupon:" + Tag(t) + ":stock"; }
/// Coupons held per user, in two keys (the rule is in lua/coupon_issue.lua): the bitmap Won, a 1
/// at the user id's bit for a user below 2^27 holding exactly one, and the HASH Users, user id →
/// coupons won for every other count (when present, it is the count whatever the bit says).
inline std::string Users(std::int64_t t) { return "coupon:" + Tag(t) + ":users"; }
inline std::string Won(std::int64_t t) { return "coupon:" + Tag(t) + ":won"; }
/// Winners so far (the position counter).
inline std::string Seq(std::int64_t t) { return "coupon:" + Tag(t) + ":seq"; }
/// HASH request id → state of a request Redis still answers for: "F:user:pos" (dead-lettered),
/// "R:user:pos" (replayed, until persisted). A persisted win's state is its database row.
inline std::string Requests(std::int64_t t) { return "coupon:" + Tag(t) + ":req"; }
/// HASH request id → failures to write that win alone.
inline std::string Failures(std::int64_t t) { return "coupon:" + Tag(t) + ":fail"; }
/// Per-user request counter of the current second, appended to `out` (the issue path builds it
/// for every request, so into a reused buffer).
inline void AppendRateLimit(std::string& out, std::int64_t t, std::string_view user) {
    out += "coupon:{";
    AppendDecimal(out, t);
    out += "}:rl:";
    out += user;
}
/// The issue stream and its dead letters.
inline std::string Stream(std::int64_t t) { return "coupon-issue:" + Tag(t); }
inline std::string DeadLetters(std::int64_t t) { return Stream(t) + ":dlq"; }
/// SET of template ids with a stream (no tag: read by the persister to find streams).
inline const std::string kTemplates = "coupon:templates";
inline const std::string kGroup = "coupon-persister";

}  // namespace joopang::redis::coupon_keys
