#pragma once
/// SHA-1, only to name Lua scripts the way Redis does (EVALSHA takes the hex SHA-1 of the source).
/// Not for anything security-related.

#include <string>
#include <string_view>

namespace joopang::redis {

/// Lower-case hex SHA-1 of `data` (40 characters).
std::string Sha1Hex(std::string_view data);

}  // namespace joopang::redis
