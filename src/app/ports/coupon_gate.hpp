#pragma once
/// The Redis side of coupon drops, as the request path sees it. Async: every call is one or a few
/// pipelined Redis commands; no SQL.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "domain/coupon_template.hpp"

namespace joopang {

struct IssueDecision {
    enum class Kind {
        kReserved,
        kAlreadyIssued,
        kSoldOut,
        kNotActive,
        kUnknownTemplate,
        kRateLimited
    };
    Kind kind = Kind::kSoldOut;
    std::int64_t request_id = 0;
    std::int64_t position = 0;
    std::int64_t remaining = 0;
    /// Winners not yet persisted when this one was reserved (for estimatedPersistMs).
    std::int64_t backlog = 0;
    std::int64_t retry_after_ms = 0;
};

/// What became of an issue request.
struct IssueRequestState {
    enum class Kind { kReserved, kIssued, kFailed };
    Kind kind = Kind::kReserved;
    std::int64_t user_id = 0;
    std::int64_t position = 0;
    std::int64_t coupon_id = 0;
};

/// Redis's counters of one template, read atomically.
struct TemplateCounters {
    bool known = false;         // metadata present in Redis
    bool has_seq = false;       // the position counter exists
    std::int64_t reserved = 0;  // winners decided in Redis
    std::int64_t stock = 0;     // coupons left
    std::int64_t persisted = 0;
};

/// One Redis key of a drop as Redis sizes it (for operators: memory per winner, TTLs).
struct DropKey {
    std::string role;          // meta, stock, users, seq, requests, failures, stream, dead_letters
    std::string key;           // the key's name
    std::string type;          // Redis TYPE
    std::int64_t bytes = 0;    // MEMORY USAGE (sampled for big hashes)
    std::int64_t ttl_ms = -1;  // -1: no TTL
    std::int64_t length = 0;   // hash fields, stream entries, set members, string bytes
};

class CouponGate {
  public:
    virtual ~CouponGate() = default;
    /// One atomic decision: rate limit, status and window, per-user limit, stock, arrival order
    /// and the append to the issue stream, together or not at all.
    virtual boost::asio::awaitable<Result<IssueDecision>> TryIssue(std::int64_t template_id,
                                                                   std::int64_t user_id) = 0;
    /// Writes the template's metadata to Redis; creates its stock (total − `already_issued`) only
    /// if absent; registers it for the persister.
    virtual boost::asio::awaitable<Status> Publish(const CouponTemplate& t,
                                                   std::int64_t already_issued) = 0;
    virtual boost::asio::awaitable<Result<std::optional<IssueRequestState>>> FindRequest(
        std::int64_t template_id, std::int64_t request_id) = 0;
    virtual boost::asio::awaitable<Result<TemplateCounters>> Counters(std::int64_t template_id) = 0;
    /// The drop's keys that exist, with their sizes and TTLs (one atomic read).
    virtual boost::asio::awaitable<Result<std::vector<DropKey>>> Footprint(
        std::int64_t template_id) = 0;
    /// Repair after Redis lost data: republishes the metadata, adds per-user counts Redis forgot,
    /// and sets the position counter to `reserved` and the stock to total − `reserved` — but only
    /// if the position counter still reads `seen` (what Counters() returned), so a drop in
    /// progress is never rolled back. Returns whether the counters were set.
    virtual boost::asio::awaitable<Result<bool>> Restore(
        const CouponTemplate& t,
        const TemplateCounters& seen,
        std::int64_t reserved,
        const std::vector<std::pair<std::int64_t, std::int64_t>>& user_counts) = 0;
};

}  // namespace joopang
