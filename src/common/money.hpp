#pragma once
/// Money as an exact count of cents (hundredths of the currency unit) in an int64.
/// On the wire money is a decimal string with two places ("12500.00"); parsing accepts up to two
/// decimals and rejects anything above kMaxCents so that sums of many lines cannot overflow.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace joopang {

class Money {
  public:
    /// 10^13 units: far above any real price or balance, far below int64 overflow in sums.
    static constexpr std::int64_t kMaxCents = 1'000'000'000'000'000;

    constexpr Money() = default;
    static constexpr Money FromCents(std::int64_t cents) { return Money(cents); }
    /// Parses "12", "12.5", "12.50"; rejects signs other than a leading '-', more than two
    /// decimals, exponents and magnitudes above kMaxCents.
    static std::optional<Money> Parse(std::string_view text);

    constexpr std::int64_t cents() const { return cents_; }
    /// "12500.00", "-3.05"
    std::string ToString() const;

    friend constexpr auto operator<=>(Money, Money) = default;
    constexpr Money operator+(Money o) const { return Money(cents_ + o.cents_); }
    constexpr Money operator-(Money o) const { return Money(cents_ - o.cents_); }
    constexpr bool IsNegative() const { return cents_ < 0; }
    constexpr bool IsZero() const { return cents_ == 0; }

    /// this * quantity, or nullopt when the result would exceed kMaxCents.
    std::optional<Money> Times(std::int64_t quantity) const;

  private:
    constexpr explicit Money(std::int64_t cents) : cents_(cents) {}
    std::int64_t cents_ = 0;
};

}  // namespace joopang
