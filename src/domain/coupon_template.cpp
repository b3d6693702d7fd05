#include "domain/coupon_template.hpp"

namespace joopang {

std::string_view ToString(TemplateStatus s) {
    switch (s) {
        case TemplateStatus::kActive:
            return "ACTIVE";
        case TemplateStatus::kPaused:
            return "PAUSED";
        case TemplateStatus::kEnded:
            return "ENDED";
    }
    return "ENDED";
}

std::optional<TemplateStatus> ParseTemplateStatus(std::string_view s) {
    if (s == "ACTIVE") return TemplateStatus::kActive;
    if (s == "PAUSED") return TemplateStatus::kPaused;
    if (s == "ENDED") return TemplateStatus::kEnded;
    return std::nullopt;
}

EpochMs CouponTemplate::ExpiryFor(EpochMs issued_at) const {
    constexpr EpochMs kDay = 24LL * 3600 * 1000;
    if (valid_days) return issued_at + *valid_days * kDay;
    if (end_at) return *end_at;
    return issued_at + 30 * kDay;
}

Status ValidateTemplate(const CouponTemplate& t) {
    if (t.title.empty() || t.title.size() > 200)
        return Error::Validation("title", "title must be 1..200 characters");
    if (t.terms.value.cents() <= 0)
        return Error::Validation("value", "value must be greater than 0");
    if (t.terms.type == CouponType::kPercentage && t.terms.value.cents() > 10000)
        return Error::Validation("value", "a percentage must be within (0, 100]");
    if (t.total_quantity < 1 || t.total_quantity > kMaxCouponQuantity)
        return Error::Validation("totalQuantity", "totalQuantity must be within 1..100000000");
    if (t.per_user_limit < 1 || t.per_user_limit > 1000)
        return Error::Validation("perUserLimit", "perUserLimit must be within 1..1000");
    if (t.terms.min_order_amount.IsNegative())
        return Error::Validation("minOrderAmount", "minOrderAmount must not be negative");
    if (t.terms.max_discount_amount && t.terms.max_discount_amount->cents() <= 0)
        return Error::Validation("maxDiscountAmount", "maxDiscountAmount must be greater than 0");
    if (t.start_at && t.end_at && *t.end_at <= *t.start_at)
        return Error::Validation("endAt", "endAt must be after startAt");
    if (t.valid_days && (*t.valid_days < 1 || *t.valid_days > 3650))
        return Error::Validation("validDays", "validDays must be within 1..3650");
    return {};
}

}  // namespace joopang
