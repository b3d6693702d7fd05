#include <charconv>

#include "infra/sql/db.hpp"

namespace joopang::sql {

std::int64_t Row::Int(std::size_t i) const { return OptInt(i).value_or(0); }

std::optional<std::int64_t> Row::OptInt(std::size_t i) const {
    const auto& c = cols_.at(i);
    if (!c) return std::nullopt;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(c->data(), c->data() + c->size(), v);
    if (ec != std::errc()) return std::nullopt;
    return v;
}

double Row::Real(std::size_t i) const {
    const auto& c = cols_.at(i);
    return c ? std::strtod(c->c_str(), nullptr) : 0.0;
}

const std::string& Row::Text(std::size_t i) const {
    static const std::string kEmpty;
    const auto& c = cols_.at(i);
    return c ? *c : kEmpty;
}

}  // namespace joopang::sql
