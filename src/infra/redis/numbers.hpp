#pragma once
/// The one way the Redis layer reads a decimal integer (replies, stream fields, ids, URLs): the
/// whole text must be an integer that fits — no sign other than a leading '-', no spaces, no
/// exceptions.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace joopang::redis {

template <class Int = std::int64_t>
std::optional<Int> ParseInteger(std::string_view s) {
    Int v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace joopang::redis
