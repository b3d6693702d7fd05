#include "workers/coupon_persister.hpp"

#include "observability/metrics.hpp"
#include "workers/stream_consumer_impl.hpp"

namespace joopang::workers {

template class StreamConsumer<IssueEntry, PersistedCoupon>;

boost::asio::awaitable<Status> CouponPersistHandler::Prepare(std::int64_t template_id) {
    auto tmpl = co_await pool_.Run([&] { return repo_.FindTemplate(template_id); });
    if (!tmpl) co_return tmpl.error();
    templates_.try_emplace(template_id, std::move(*tmpl));
    co_return Status{};
}

boost::asio::awaitable<Result<std::vector<PersistedCoupon>>> CouponPersistHandler::Handle(
    std::int64_t template_id, const std::vector<IssueEntry>& wins) {
    auto it = templates_.find(template_id);
    if (it == templates_.end()) {
        if (auto st = co_await Prepare(template_id); !st) co_return st.error();
        it = templates_.find(template_id);
    }
    std::vector<IssuedCoupon> coupons;
    coupons.reserve(wins.size());
    for (const auto& w : wins) coupons.push_back(w.coupon);
    const auto start = std::chrono::steady_clock::now();
    const CouponTemplate tmpl = it->second;  // a copy: another lane may Prepare meanwhile
    auto persisted = co_await pool_.Run([&] { return repo_.PersistBatch(tmpl, coupons); });
    if (!persisted) co_return persisted.error();
    obs::Registry::Global()
        .GetHistogram("joopang_coupon_persist_batch_seconds", "Coupon batch write duration")
        .ObserveNs(std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count());
    co_return std::move(*persisted);
}

void CouponPersistHandler::Completed(std::int64_t template_id, std::size_t wins) {
    obs::Registry::Global()
        .GetCounter("joopang_coupons_persisted_total", "Coupons written to the database",
                    {{"template", std::to_string(template_id)}})
        .Add(wins);
}

CouponPersister::CouponPersister(boost::asio::any_io_executor executor,
                                 CouponIssueQueue& queue,
                                 CouponRepository& repo,
                                 BlockingPool& pool,
                                 StreamConsumerSettings settings)
    : handler_(repo, pool),
      consumer_(std::make_unique<StreamConsumer<IssueEntry, PersistedCoupon>>(
          std::move(executor), queue, handler_, std::move(settings))) {}

CouponPersister::~CouponPersister() { Stop(); }

void CouponPersister::Start() { consumer_->Start(); }

void CouponPersister::Stop() { consumer_->Stop(); }

}  // namespace joopang::workers
