#pragma once
/// Coupon drops as operators watch them: for every live template, Redis's counters (reserved,
/// remaining), the database's persisted count, and what each of the drop's keys costs Redis
/// (size, TTL, length) — hence the memory per winner. Sample() is a job on every instance (a
/// read: no lease); Latest() answers the dashboard and the metrics from the last sample.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
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
    DropMonitor(CouponRepository& repo, CouponGate& gate, BlockingPool& pool)
        : repo_(repo), gate_(gate), pool_(pool) {}

    /// Reads every live template's figures into a new snapshot. A drop that could not be read
    /// is missing from it, and the run fails (so the job counts a failure); when the templates
    /// cannot be listed the last snapshot stays (its sampled_at says how old it is).
    boost::asio::awaitable<Status> Sample();
    DropsSnapshot Latest() const;

  private:
    CouponRepository& repo_;
    CouponGate& gate_;
    BlockingPool& pool_;
    mutable std::mutex mu_;
    DropsSnapshot latest_;
};

}  // namespace joopang
