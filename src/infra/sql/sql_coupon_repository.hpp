#pragma once
#include "app/ports/coupon_repository.hpp"
#include "infra/sql/db.hpp"

namespace joopang::sql {

class SqlCouponRepository final : public CouponRepository {
  public:
    explicit SqlCouponRepository(Db& db) : db_(db) {}
    Result<CouponTemplate> CreateTemplate(const CouponTemplate& t) override;
    Result<CouponTemplate> FindTemplate(std::int64_t id) override;
    Result<CouponTemplate> SetTemplateStatus(std::int64_t id, TemplateStatus status) override;
    Result<std::vector<CouponTemplate>> ListLiveTemplates() override;
    Result<std::int64_t> CountIssued(std::int64_t template_id) override;
    Result<RowCount> CountRows(std::int64_t template_id) override;
    Result<std::vector<std::pair<std::int64_t, std::int64_t>>> CountByUser(
        std::int64_t template_id) override;
    Result<std::vector<PersistedCoupon>> PersistBatch(
        const CouponTemplate& t, const std::vector<IssuedCoupon>& coupons) override;
    Result<std::optional<IssuedRequest>> FindByRequest(std::int64_t template_id,
                                                       std::int64_t request_id) override;
    Result<std::vector<std::pair<Coupon, std::string>>> ListByUser(std::int64_t user_id) override;

  private:
    Db& db_;
};

}  // namespace joopang::sql
