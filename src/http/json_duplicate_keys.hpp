#pragma once
/// RFC 8259 leaves duplicate object keys to the implementation, and Boost.JSON keeps the last one:
/// `{"userId": 1, "userId": 2}` would mean 2 here and 1 to a proxy or validator in front. joopang
/// refuses such a body instead; this finds the first duplicated key.

#include <optional>
#include <string>
#include <string_view>

namespace joopang::http {

/// The first key that appears twice in one object of `json` (at any depth), or nullopt — also
/// when `json` is malformed (the full parser reports that). `max_depth` as the parser's.
std::optional<std::string> FindDuplicateKey(std::string_view json, std::size_t max_depth);

}  // namespace joopang::http
