#pragma once
/// Small helpers shared by the SQL repositories.

#include <cstdint>
#include <optional>
#include <string>

#include "infra/sql/db.hpp"

namespace joopang::sql {

/// "?, ?, ?" with n placeholders.
inline std::string Placeholders(std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
    return out;
}

inline Value OptValue(const std::optional<std::int64_t>& v) {
    return v ? Value{*v} : Value{std::monostate{}};
}

}  // namespace joopang::sql
