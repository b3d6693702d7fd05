#pragma once
/// The issue stream as the persister sees it: one stream per template, one consumer group, a
/// consumer name per process, a dead-letter stream beside each.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "app/ports/coupon_repository.hpp"
#include "common/error.hpp"

namespace joopang {

/// One win as delivered, with the id of the stream entry that carries it (one entry carries all
/// the wins of one issue-script call, so several wins may share an entry id). An entry that
/// cannot be decoded is delivered as one `malformed` IssueEntry holding the entry's fields as
/// read: it can never be written, and is dead-lettered whole.
struct IssueEntry {
    std::string entry_id;
    IssuedCoupon coupon;
    bool malformed = false;
    std::vector<std::pair<std::string, std::string>> raw_fields;  // only when malformed
};

struct StreamStats {
    std::string name;
    std::int64_t template_id = 0;  // the coupon template whose wins the stream carries
    std::int64_t length = 0;
    std::int64_t pending = 0;
    std::int64_t lag = 0;
    std::int64_t oldest_pending_age_ms = 0;
    std::int64_t deliveries_retried = 0;
    std::int64_t dead_lettered = 0;
    std::int64_t dead_letter_length = 0;
    std::int64_t consumers = 0;
};

class CouponIssueQueue {
  public:
    virtual ~CouponIssueQueue() = default;
    template <class T>
    using Awaitable = boost::asio::awaitable<T>;

    /// The name of a template's issue stream (for logs, metrics and the admin API).
    virtual std::string StreamName(std::int64_t template_id) const = 0;
    /// Templates whose streams exist.
    virtual Awaitable<Result<std::vector<std::int64_t>>> Templates() = 0;
    /// Creates the consumer group (tolerates an existing one).
    virtual Awaitable<Status> EnsureGroup(std::int64_t template_id) = 0;
    /// This consumer's delivered-but-unacknowledged entries (retries after a failure or restart).
    virtual Awaitable<Result<std::vector<IssueEntry>>> ReadPending(std::int64_t template_id,
                                                                   const std::string& consumer,
                                                                   int count) = 0;
    /// Entries never delivered to the group.
    virtual Awaitable<Result<std::vector<IssueEntry>>> ReadNew(std::int64_t template_id,
                                                               const std::string& consumer,
                                                               int count) = 0;
    /// Takes over entries another consumer has held for `min_idle_ms` (a dead process).
    virtual Awaitable<Result<std::vector<IssueEntry>>> Reclaim(std::int64_t template_id,
                                                               const std::string& consumer,
                                                               std::int64_t min_idle_ms,
                                                               int count) = 0;
    /// After a commit: records the coupon ids of the wins `persisted` (in the order of `wins`),
    /// acknowledges the entries `entry_ids` — those none of whose wins waits for a retry — and
    /// trims the stream of everything every consumer group has acknowledged.
    virtual Awaitable<Status> Complete(std::int64_t template_id,
                                       const std::vector<std::string>& entry_ids,
                                       const std::vector<PersistedCoupon>& persisted,
                                       const std::vector<IssueEntry>& wins) = 0;
    /// Counts a failure of this win alone (its row cannot be written); returns how many it has
    /// had.
    virtual Awaitable<Result<std::int64_t>> RecordFailure(std::int64_t template_id,
                                                          const IssueEntry& win) = 0;
    /// Moves a win to the dead-letter stream (with the reason) and marks its request FAILED,
    /// once: a win dead-lettered before (its entry redelivered after a crash) is not added again.
    /// Its entry is acknowledged by Complete, with the entry's other wins. A malformed entry is
    /// dead-lettered whole and acknowledged here.
    virtual Awaitable<Status> DeadLetter(std::int64_t template_id,
                                         const IssueEntry& win,
                                         const std::string& reason) = 0;
    /// Removes the group's consumers that hold no pending entry and have not read for
    /// `min_idle_ms` — processes (or lanes) that stopped or died, whose entries were reclaimed —
    /// atomically, so none can be handed an entry in between. Returns how many were removed.
    virtual Awaitable<Result<std::int64_t>> ForgetIdleConsumers(std::int64_t template_id,
                                                                std::int64_t min_idle_ms) = 0;
    /// Moves every dead letter of `stream` back into it; returns how many.
    virtual Awaitable<Result<std::int64_t>> Replay(const std::string& stream) = 0;
    virtual Awaitable<Result<std::vector<StreamStats>>> Stats() = 0;
};

}  // namespace joopang
