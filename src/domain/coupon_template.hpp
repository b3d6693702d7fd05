#pragma once
/// A coupon template: the terms of a first-come-first-served drop and its issue window.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "domain/coupon.hpp"

namespace joopang {

enum class TemplateStatus { kActive, kPaused, kEnded };
std::string_view ToString(TemplateStatus s);
std::optional<TemplateStatus> ParseTemplateStatus(std::string_view s);

struct CouponTemplate {
    std::int64_t id = 0;
    std::string title;
    CouponTerms terms;
    std::int64_t total_quantity = 0;
    std::int64_t per_user_limit = 1;
    std::optional<EpochMs> start_at;
    std::optional<EpochMs> end_at;
    std::optional<std::int64_t> valid_days;
    TemplateStatus status = TemplateStatus::kActive;
    EpochMs created_at = 0;
    /// Coupons persisted so far (kept by the database with every insert; read-only here).
    std::int64_t issued = 0;

    /// When a coupon issued at `issued_at` expires: validDays after issue, else the template's
    /// end, else 30 days after issue.
    EpochMs ExpiryFor(EpochMs issued_at) const;
};

/// Checks a new template's terms; errors name the wire field.
Status ValidateTemplate(const CouponTemplate& t);

inline constexpr std::int64_t kMaxCouponQuantity = 100'000'000;

}  // namespace joopang
