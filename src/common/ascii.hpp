#pragma once
/// ASCII case helpers for protocol tokens (HTTP field names, Redis command names): locale-free,
/// and only A-Z/a-z change case.

#include <string_view>

namespace joopang {

constexpr char AsciiLower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// `a` and `b` are equal ignoring ASCII case.
constexpr bool AsciiIEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
    return true;
}

}  // namespace joopang
