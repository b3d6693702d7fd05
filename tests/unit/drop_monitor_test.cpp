// DropMonitor with in-memory fakes of its ports and a clock of the test's: drops in progress are
// sampled; a finished drop (every coupon persisted, or its issue window over and its wins all
// persisted) stays in the samples for a minute after it is first seen finished, then leaves them.

#include "app/drop_monitor.hpp"

#include <gtest/gtest.h>

#include <set>

#include "async_test_support.hpp"
#include "coupon_fakes.hpp"

namespace joopang {
namespace {
using namespace test_fakes;

class DropMonitorTest : public testing::Test {
  protected:
    std::int64_t Add(std::int64_t total, std::int64_t issued, std::optional<EpochMs> end_at = {}) {
        CouponTemplate t;
        t.title = "t";
        t.total_quantity = total;
        t.end_at = end_at;
        auto saved = *repo.CreateTemplate(t);
        repo.templates[saved.id].issued = issued;
        return saved.id;
    }
    std::set<std::int64_t> Sampled() {
        EXPECT_TRUE(test_support::RunToEnd(monitor.Sample()));
        std::set<std::int64_t> ids;
        for (const auto& d : monitor.Latest().drops) ids.insert(d.tmpl.id);
        return ids;
    }

    EpochMs now = 1'000'000;
    FakeGate gate;
    FakeCoupons repo;
    BlockingPool pool{1};
    DropMonitor monitor{repo, gate, pool, [this] { return now; }};
};

TEST_F(DropMonitorTest, AFinishedDropLeavesTheSamplesAMinuteAfterItWasFirstSeenFinished) {
    const auto running = Add(100, 40);
    const auto sold_and_persisted = Add(100, 100);
    const auto window_open = Add(100, 10, now + 3'600'000);
    EXPECT_EQ(Sampled(), (std::set<std::int64_t>{running, sold_and_persisted, window_open}));
    now += DropMonitor::kFinishedShown - 1;
    EXPECT_EQ(Sampled(), (std::set<std::int64_t>{running, sold_and_persisted, window_open}));
    now += 1;
    EXPECT_EQ(Sampled(), (std::set<std::int64_t>{running, window_open}));
    EXPECT_EQ(monitor.Latest().sampled_at, now);

    // The running drop finishes now: shown for another minute from here.
    repo.templates[running].issued = 100;
    EXPECT_EQ(Sampled(), (std::set<std::int64_t>{running, window_open}));
    now += DropMonitor::kFinishedShown;
    EXPECT_EQ(Sampled(), (std::set<std::int64_t>{window_open}));
    // A finished drop that has coupons to persist again (a repair) is in progress again.
    repo.templates[sold_and_persisted].issued = 99;
    EXPECT_EQ(Sampled(), (std::set<std::int64_t>{sold_and_persisted, window_open}));
}

TEST_F(DropMonitorTest, AWindowOverDropStaysWhileItsWinsAreStillBeingPersisted) {
    const auto over = Add(100, 10, now - 1);
    gate.counters[over] = {.known = true, .has_seq = true, .reserved = 20, .stock = 80};
    EXPECT_EQ(Sampled(), (std::set<std::int64_t>{over}));
    now += 2 * DropMonitor::kFinishedShown;
    EXPECT_EQ(Sampled(), (std::set<std::int64_t>{over})) << "10 of its 20 wins not persisted";
    repo.templates[over].issued = 20;  // the persister caught up: finished from now
    EXPECT_EQ(Sampled(), (std::set<std::int64_t>{over}));
    now += DropMonitor::kFinishedShown;
    EXPECT_EQ(Sampled(), std::set<std::int64_t>{});
}

}  // namespace
}  // namespace joopang
