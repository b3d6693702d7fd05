#pragma once
/// Coupon drops as operators watch them: for every drop in progress, Redis's counters (reserved,
/// remaining), the database's persisted count, and what each of the drop's keys costs Redis
/// (size, TTL, length) — hence the memory per winner. Sample() is a job on every instance (a
/// read: no lease); Latest() answers the dashboard and the metrics from the last sample.
///
/// A drop is in progress while its template is not ENDED and it can still change: not every
/// coupon persisted, and its issue window not over or its wins not all persisted yet (as the last
/// sample saw them). A finished drop stays in the samples for
/// kFinishedShown after this instance first saw it finished, then leaves them: sampling costs
/// Redis a few commands per key each second, and finished drops pile up.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "app/ports/coupon_gate.hpp"
#include "app/ports/coupon_repository.hpp"
#include "common/blocking_pool.hpp"
#include "common/clock.hpp"

namespace joopang {

struct DropSample {
    CouponTemplate tmpl;        // as the database has it (its `issued` is the persisted count)
    TemplateCounters counters;  // as Redis has it
    std::vector<DropKey> keys;  // the keys that exist
    std::int64_t key_bytes = 0;
    /// The drop's keys' bytes ÷ winners (0 before the first winner).
    double bytes_per_winner = 0;
};

struct DropsSnapshot {
    EpochMs sampled_at = 0;  // 0: never sampled
    std::vector<DropSample> drops;
};

class DropMonitor {
  public:
    static constexpr EpochMs kFinishedShown = 60'000;

    DropMonitor(CouponRepository& repo,
                CouponGate& gate,
                BlockingPool& pool,
                std::function<EpochMs()> now = NowMs)
        : repo_(repo), gate_(gate), pool_(pool), now_(std::move(now)) {}

    /// Reads every live template's figures into a new snapshot. A drop that could not be read
    /// is missing from it, and the run fails (so the job counts a failure); when the templates
    /// cannot be listed the last snapshot stays (its sampled_at says how old it is).
    boost::asio::awaitable<Status> Sample();
    DropsSnapshot Latest() const;

  private:
    /// Whether `t` is still shown at `now`: in progress, or finished less than kFinishedShown
    /// ago (by this instance's first sight of it finished). `reserved_before`: the wins the
    /// last sample saw, by template.
    bool Shown(const CouponTemplate& t,
               EpochMs now,
               const std::map<std::int64_t, std::int64_t>& reserved_before);

    CouponRepository& repo_;
    CouponGate& gate_;
    BlockingPool& pool_;
    std::function<EpochMs()> now_;
    std::map<std::int64_t, EpochMs> finished_since_;  // Sample() only (one run at a time)
    mutable std::mutex mu_;
    DropsSnapshot latest_;
};

}  // namespace joopang
