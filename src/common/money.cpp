#include "common/money.hpp"

#include <cstdlib>

namespace joopang {

std::optional<Money> Money::Parse(std::string_view text) {
    if (text.empty() || text.size() > 32) return std::nullopt;
    bool negative = false;
    std::size_t i = 0;
    if (text[0] == '-') {
        negative = true;
        i = 1;
    }
    std::int64_t whole = 0;
    std::size_t digits = 0;
    for (; i < text.size() && text[i] != '.'; ++i) {
        char c = text[i];
        if (c < '0' || c > '9') return std::nullopt;
        if (++digits > 16) return std::nullopt;
        whole = whole * 10 + (c - '0');
    }
    if (digits == 0) return std::nullopt;
    std::int64_t frac = 0;
    if (i < text.size()) {  // at '.'
        ++i;
        std::size_t frac_digits = 0;
        for (; i < text.size(); ++i) {
            char c = text[i];
            if (c < '0' || c > '9') return std::nullopt;
            if (++frac_digits > 2) return std::nullopt;
            frac = frac * 10 + (c - '0');
        }
        if (frac_digits == 0) return std::nullopt;
        if (frac_digits == 1) frac *= 10;
    }
    if (whole > kMaxCents / 100) return std::nullopt;
    std::int64_t cents = whole * 100 + frac;
    if (cents > kMaxCents) return std::nullopt;
    return Money(negative ? -cents : cents);
}

std::string Money::ToString() const {
    std::int64_t v = cents_ < 0 ? -cents_ : cents_;
    std::string out = std::to_string(v / 100);
    out += '.';
    std::int64_t frac = v % 100;
    out += static_cast<char>('0' + frac / 10);
    out += static_cast<char>('0' + frac % 10);
    return cents_ < 0 ? "-" + out : out;
}

std::optional<Money> Money::Times(std::int64_t quantity) const {
    std::int64_t out = 0;
    if (__builtin_mul_overflow(cents_, quantity, &out)) return std::nullopt;
    if (out > kMaxCents || out < -kMaxCents) return std::nullopt;
    return Money(out);
}

}  // namespace joopang
