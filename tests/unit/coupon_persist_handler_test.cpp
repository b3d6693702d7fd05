// The coupon persister's handler with an in-memory coupon repository: it loads a stream's
// template once, writes a batch of wins as one call and returns the coupon ids in order, and
// passes a database outage on as kUnavailable (the engine then backs off).

#include <gtest/gtest.h>

#include "async_test_support.hpp"
#include "workers/coupon_persister.hpp"

namespace joopang::workers {
namespace {
namespace asio = boost::asio;
using test_support::RunToEnd;

Error Unused() { return Error::Internal("not used by this test"); }

class MemoryCoupons final : public CouponRepository {
  public:
    int finds = 0, batches = 0;
    bool down = false;
    std::vector<IssuedCoupon> written;
    Result<CouponTemplate> CreateTemplate(const CouponTemplate&) override { return Unused(); }
    Result<CouponTemplate> FindTemplate(std::int64_t id) override {
        ++finds;
        if (down) return Error::Unavailable("database down");
        CouponTemplate t;
        t.id = id;
        return t;
    }
    Result<CouponTemplate> SetTemplateStatus(std::int64_t, TemplateStatus) override {
        return Unused();
    }
    Result<std::vector<CouponTemplate>> ListLiveTemplates() override { return Unused(); }
    Result<std::int64_t> CountIssued(std::int64_t) override { return Unused(); }
    Result<RowCount> CountRows(std::int64_t) override { return Unused(); }
    Result<std::vector<std::pair<std::int64_t, std::int64_t>>> CountByUser(std::int64_t) override {
        return Unused();
    }
    Result<std::vector<PersistedCoupon>> PersistBatch(
        const CouponTemplate& t, const std::vector<IssuedCoupon>& coupons) override {
        if (down) return Error::Unavailable("database down");
        ++batches;
        std::vector<PersistedCoupon> out;
        for (const auto& c : coupons) {
            EXPECT_EQ(c.template_id, t.id);
            written.push_back(c);
            out.push_back({c.request_id, 1000 + static_cast<std::int64_t>(written.size())});
        }
        return out;
    }
    Result<std::optional<IssuedRequest>> FindByRequest(std::int64_t, std::int64_t) override {
        return Unused();
    }
    Result<std::vector<std::pair<Coupon, std::string>>> ListByUser(std::int64_t) override {
        return Unused();
    }
};

IssueEntry Win(std::int64_t template_id, std::int64_t request, std::int64_t user) {
    IssueEntry w;
    w.entry_id = "1-0";
    w.coupon.template_id = template_id;
    w.coupon.request_id = request;
    w.coupon.user_id = user;
    return w;
}

TEST(CouponPersistHandler, WritesABatchAsOneCallAndReturnsTheCouponIdsInOrder) {
    MemoryCoupons repo;
    BlockingPool pool(1);
    CouponPersistHandler handler(repo, pool);
    ASSERT_TRUE(RunToEnd(handler.Prepare(7)));
    auto ids = RunToEnd(handler.Handle(7, {Win(7, 11, 1), Win(7, 12, 2), Win(7, 13, 3)}));
    ASSERT_TRUE(ids) << ids.error().message;
    ASSERT_EQ(ids->size(), 3u);
    EXPECT_EQ((*ids)[0].request_id, 11);
    EXPECT_EQ((*ids)[2].coupon_id, 1003);
    EXPECT_EQ(repo.batches, 1);
    ASSERT_TRUE(RunToEnd(handler.Handle(7, {Win(7, 14, 4)})));
    EXPECT_EQ(repo.finds, 1) << "the template is loaded once per stream";
}

TEST(CouponPersistHandler, ADatabaseOutageIsUnavailable) {
    MemoryCoupons repo;
    BlockingPool pool(1);
    CouponPersistHandler handler(repo, pool);
    repo.down = true;
    auto prepared = RunToEnd(handler.Prepare(7));
    ASSERT_FALSE(prepared);
    EXPECT_EQ(prepared.error().code, ErrorCode::kUnavailable);
    repo.down = false;
    ASSERT_TRUE(RunToEnd(handler.Prepare(7)));
    repo.down = true;
    auto written = RunToEnd(handler.Handle(7, {Win(7, 11, 1)}));
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code, ErrorCode::kUnavailable);
    EXPECT_TRUE(repo.written.empty());
}

}  // namespace
}  // namespace joopang::workers
