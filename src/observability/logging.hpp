#pragma once
#include <string>
#include <string_view>

namespace joopang::obs {

struct LogSettings {
    std::string level = "info";  // trace|debug|info|warn|error|off
    bool json = false;           // one JSON object per line
    bool access_log = false;     // one line per HTTP request
};

/// Configures the default spdlog logger (stderr). Call once at start-up.
void SetUpLogging(const LogSettings& settings);

/// Escapes `s` for use inside a JSON string literal (invalid UTF-8 becomes U+FFFD).
std::string JsonEscape(std::string_view s);
/// The same, appended to `out` (no temporary string).
void AppendJsonEscaped(std::string& out, std::string_view s);

}  // namespace joopang::obs
