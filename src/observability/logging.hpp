#pragma once
#include <string>

namespace joopang::obs {

struct LogSettings {
    std::string level = "info";  // trace|debug|info|warn|error|off
    bool json = false;           // one JSON object per line
    bool access_log = false;     // one line per HTTP request
};

/// Configures the default spdlog logger (stderr). Call once at start-up.
void SetUpLogging(const LogSettings& settings);

/// Escapes `s` for use inside a JSON string literal.
std::string JsonEscape(const std::string& s);

}  // namespace joopang::obs
