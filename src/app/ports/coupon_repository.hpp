#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "common/error.hpp"
#include "domain/coupon.hpp"
#include "domain/coupon_template.hpp"

namespace joopang {

/// A winner decided in Redis, on its way to the database.
struct IssuedCoupon {
    std::int64_t template_id = 0;
    std::int64_t user_id = 0;
    std::int64_t seq = 1;         // the user's n-th coupon of this template
    std::int64_t position = 0;    // place among winners
    std::int64_t request_id = 0;  // from the stream entry id
    EpochMs issued_at = 0;
};

/// The coupon id a request ended up with.
struct PersistedCoupon {
    std::int64_t request_id = 0;
    std::int64_t coupon_id = 0;
};

/// A win the database holds, found by its issue request id.
struct IssuedRequest {
    std::int64_t coupon_id = 0;
    std::int64_t user_id = 0;
    std::int64_t position = 0;
};

/// Coupon templates and coupons in the system of record. Blocking; thread-safe.
class CouponRepository {
  public:
    virtual ~CouponRepository() = default;
    virtual Result<CouponTemplate> CreateTemplate(const CouponTemplate& t) = 0;
    /// COUPON_TEMPLATE_NOT_FOUND if absent.
    virtual Result<CouponTemplate> FindTemplate(std::int64_t id) = 0;
    virtual Result<CouponTemplate> SetTemplateStatus(std::int64_t id, TemplateStatus status) = 0;
    /// Every template that is not ENDED (for the metadata re-sync).
    virtual Result<std::vector<CouponTemplate>> ListLiveTemplates() = 0;
    /// Coupons persisted for a template (the counter kept with every insert; O(1)).
    virtual Result<std::int64_t> CountIssued(std::int64_t template_id) = 0;
    /// Coupon rows of a template, counted, and its issued counter, read at one instant (for
    /// reconciliation, while a drain may be inserting).
    struct RowCount {
        std::int64_t rows = 0;
        std::int64_t counter = 0;
    };
    virtual Result<RowCount> CountRows(std::int64_t template_id) = 0;
    /// Per-user coupon counts of a template (for reconciliation and repair).
    virtual Result<std::vector<std::pair<std::int64_t, std::int64_t>>> CountByUser(
        std::int64_t template_id) = 0;
    /// Inserts the coupons of one template in one transaction, idempotently: a row that exists
    /// (same request id, or same template/user/seq) is not inserted again. Returns the coupon id of
    /// every input, in input order.
    virtual Result<std::vector<PersistedCoupon>> PersistBatch(
        const CouponTemplate& t, const std::vector<IssuedCoupon>& coupons) = 0;
    /// The coupon a request of template `template_id` became, if persisted.
    virtual Result<std::optional<IssuedRequest>> FindByRequest(std::int64_t template_id,
                                                               std::int64_t request_id) = 0;
    /// A user's coupons, newest first.
    virtual Result<std::vector<std::pair<Coupon, std::string>>> ListByUser(
        std::int64_t user_id) = 0;
};

}  // namespace joopang
