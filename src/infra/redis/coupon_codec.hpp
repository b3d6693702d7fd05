#pragma once
/// The wire formats of coupon drops in Redis, owned here on the C++ side; their Lua twins are
/// named beside each. Keys and stream names are in coupon_keys.hpp.
///
/// Issue-stream entries (written by lua/coupon_issue.lua): one per issue-script call,
/// {p = first position, w = "user:seq,user:seq,..."}, the k-th win (from 0) at position p + k;
/// or one replayed dead letter {u, s, p, t = issue time ms, r = request id}.
///
/// Request ids: a win's id is its entry id "ms-s" and its index k as ms * 10^6 + s * 1000 + k
/// (lua/coupon_issue.lua keeps s and k below 1000).
///
/// Dead letters (written by lua/coupon_dead_letter.lua with the fields given here): a win's
/// replayable fields {u, s, p, t, r} plus the notes of stream_ops::DeadLetterNotes; a malformed
/// entry's own fields plus the notes. A replay moves all but the notes back.
///
/// Request states (hash coupon:{T}:req, read by lua/coupon_request.lua): request id →
/// "R:user:pos" (reserved; a replayed win, until persisted) or "F:user:pos" (failed,
/// dead-lettered). A win waiting in the stream is read from its entry, a persisted one from the
/// database.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/ports/coupon_gate.hpp"
#include "app/ports/coupon_issue_queue.hpp"
#include "infra/redis/streams.hpp"

namespace joopang::redis::coupon_codec {

/// A win's request id ("1732200000000-3", k 7 ↔ 1732200000000003007); 0 when s or k is 1000
/// or more, or the entry id is not one.
std::int64_t RequestIdOf(const std::string& entry_id, std::int64_t index);
/// The entry id of a request id (its index is request_id % 1000).
std::string EntryIdOf(std::int64_t request_id);

/// Appends the wins a stream entry carries. An entry that does not decode is appended as one
/// `malformed` IssueEntry holding its fields as read.
void DecodeEntry(std::int64_t template_id, const StreamEntry& e, std::vector<IssueEntry>& out);
/// DecodeEntry of each entry, skipping entries deleted while pending (no fields).
std::vector<IssueEntry> DecodeEntries(std::int64_t template_id,
                                      const std::vector<StreamEntry>& entries);
/// "coupon-issue:{42}" → 42.
std::optional<std::int64_t> TemplateOfStream(const std::string& stream);

/// A win's dead letter: its replayable fields, then the notes.
StreamFields DeadLetterFields(const IssuedCoupon& win,
                              const std::string& source_entry,
                              const std::string& reason);

std::string ReservedState(std::int64_t user_id, std::int64_t position);
std::string FailedState(std::int64_t user_id, std::int64_t position);
/// A request state as stored; nullopt when it is not one. "I:user:pos:coupon" (issued) is read
/// too: versions before the database answered for persisted requests wrote it.
std::optional<IssueRequestState> ParseRequestState(std::string_view state);

}  // namespace joopang::redis::coupon_codec
