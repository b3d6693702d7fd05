#pragma once
/// An integer appended to a string in decimal, without a temporary string (std::to_string): for
/// the hot paths that build keys, headers and protocol lines piece by piece.

#include <charconv>
#include <cstdint>
#include <string>

namespace joopang {

inline void AppendDecimal(std::string& out, std::int64_t v) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
    out.append(digits, end);
}

}  // namespace joopang
