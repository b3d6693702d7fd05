#include "observability/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace joopang::obs {

void SetUpLogging(const LogSettings& settings) {
    auto logger = spdlog::stderr_color_mt("joopang");
    if (settings.json) {
        logger->set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":"%v"})",
            spdlog::pattern_time_type::utc);
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    }
    logger->set_level(spdlog::level::from_str(settings.level));
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));
}

namespace {
/// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
std::size_t Utf8Length(std::string_view s, std::size_t i) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 > 0x8F))
        return 0;  // overlong, surrogate or beyond U+10FFFF
    return n;
}

/// Bytes that go into a JSON string as they are: printable ASCII but the quote and the backslash.
constexpr std::array<bool, 256> kPlainJsonByte = [] {
    std::array<bool, 256> plain{};
    for (int c = 0x20; c < 0x7f; ++c) plain[c] = c != '"' && c != '\\';
    return plain;
}();

/// Whether any of the 8 bytes in `w` needs escaping (below 0x20, '"', '\\', 0x7f or above):
/// lets the common all-plain text be skipped 8 bytes at a time.
bool AnyNeedsEscape(std::uint64_t w) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
    auto has_zero_byte = [](std::uint64_t x) { return ((x - kOnes) & ~x & kHighs) != 0; };
    const bool below_space = ((w - kOnes * 0x20) & ~w & kHighs) != 0;
    return below_space || (w & kHighs) != 0 || has_zero_byte(w ^ (kOnes * '"')) ||
           has_zero_byte(w ^ (kOnes * '\\')) || has_zero_byte(w ^ (kOnes * 0x7f));
}
}  // namespace

void AppendJsonEscaped(std::string& out, std::string_view s) {
    // Plain printable ASCII runs are appended whole; only the rest goes character by character.
    // (This runs over the message and path of every error answer, most answers of a coupon drop.)
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        for (std::uint64_t w; i + 8 <= s.size(); i += 8) {
            std::memcpy(&w, s.data() + i, 8);
            if (AnyNeedsEscape(w)) break;
        }
        if (i >= s.size()) break;
        auto c = static_cast<unsigned char>(s[i]);
        if (kPlainJsonByte[c]) continue;
        out.append(s.data() + run, i - run);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else if (std::size_t n = Utf8Length(s, i)) {
                    out.append(s.data() + i, n);
                    i += n - 1;
                } else {
                    out += "\\ufffd";  // invalid UTF-8 (e.g. a percent-decoded %FF): keep the JSON
                                       // valid
                }
        }
        run = i + 1;
    }
    out.append(s.data() + run, s.size() - run);
}

std::string JsonEscape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    AppendJsonEscaped(out, s);
    return out;
}

}  // namespace joopang::obs
