#pragma once
/// The issue streams as the persister sees them: one stream per template (keyed by its id), one
/// consumer group, a consumer name per process and lane, dead letters beside each stream.

#include <string>
#include <utility>
#include <vector>

#include "app/ports/coupon_repository.hpp"
#include "app/ports/stream_group.hpp"

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

/// Receipts are the coupon rows written; a win whose row was written is recorded ISSUED with
/// its coupon id, and a failed win FAILED with its dead letter.
class CouponIssueQueue : public StreamGroup<IssueEntry, PersistedCoupon> {
  public:
    /// Wins waiting in template `key`'s stream — not entries: one entry carries a whole issue
    /// call's wins — in entries not yet delivered to the persister or delivered and pending (an
    /// acknowledged entry the trim has not reached is persisted). Read in bounded steps, so a win
    /// that leaves meanwhile (persisted, or dead-lettered) may be missed here: read the places a
    /// win moves to after this.
    virtual Awaitable<Result<std::int64_t>> WinsWaiting(std::int64_t key) = 0;
    /// Wins in template `key`'s dead-letter stream (one entry each).
    virtual Awaitable<Result<std::int64_t>> DeadLetters(std::int64_t key) = 0;
};

}  // namespace joopang
