#pragma once
/// Wall-clock time as milliseconds since the Unix epoch, and its RFC 3339 rendering.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace joopang {

using EpochMs = std::int64_t;

/// Current wall-clock time in milliseconds.
EpochMs NowMs();
/// "2026-11-21T16:44:00.123Z"
std::string FormatRfc3339(EpochMs ms);
/// The same, appended to `out` (no string of its own: error bodies are a hot path).
void AppendRfc3339(std::string& out, EpochMs ms);
/// Parses "YYYY-MM-DDTHH:MM:SS[.fff][Z|+hh:mm|-hh:mm]"; nullopt if malformed.
std::optional<EpochMs> ParseRfc3339(std::string_view text);

}  // namespace joopang
