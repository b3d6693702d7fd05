#pragma once
#include <string>
#include <string_view>

namespace joopang::http {

/// Decodes %XX escapes (malformed escapes are kept as they are); with `plus_is_space`, '+' is a
/// space, as in query strings (application/x-www-form-urlencoded).
std::string PercentDecode(std::string_view s, bool plus_is_space = false);
/// The same into `out` (replacing its contents, keeping its capacity).
void PercentDecodeInto(std::string& out, std::string_view s, bool plus_is_space = false);

}  // namespace joopang::http
