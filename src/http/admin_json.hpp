#pragma once
/// Wire forms of what operators read (SPEC §6–§7): waiting-room figures, stream figures, coupon
/// drops as the drop monitor sampled them, and the metrics registry as JSON for the dashboard.

#include <boost/json/value.hpp>
#include <vector>

#include "app/drop_monitor.hpp"
#include "app/ports/stream_group.hpp"
#include "app/ports/waiting_line.hpp"
#include "observability/metrics.hpp"

namespace joopang::http {

/// {waiting, active, admitPerSecond, maxActive, paused, admittedLastMinute}
boost::json::value ToJson(const QueueStats& s);
/// {name, length, pending, lag, oldestPendingAgeMs, deliveriesRetried, deadLettered,
/// deadLetterLength, consumers}
boost::json::value ToJson(const StreamStats& s);
/// {templateId, title, status, totalQuantity, reserved, remaining, persisted, keyBytes,
/// bytesPerWinner, keys: [{role, key, type, bytes, ttlMs, length}]}
boost::json::value ToJson(const DropSample& d);
/// {bounds: [histogram bucket bounds in seconds], families: {name: {type, series: [{labels:
/// {…}, value} or {labels, buckets: [cumulative], count, sum}]}}}; histograms never observed are
/// left out.
boost::json::value ToJson(const std::vector<obs::FamilySnapshot>& families);

}  // namespace joopang::http
