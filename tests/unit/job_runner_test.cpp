// The job runner: periodic runs, back-off after failures, one instance at a time under a lease
// that is renewed while a run outlasts it. Real timers with short periods, a lease store in memory.

#include "workers/job_runner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "async_test_support.hpp"

namespace joopang::workers {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test_support::Loop;
using test_support::WaitUntil;

/// Leases in memory, with expiry, shared by several runners as Redis would be.
class MemoryLeases final : public LeaseStore {
  public:
    asio::awaitable<bool> Hold(const std::string& name,
                               const std::string& token,
                               std::chrono::milliseconds ttl) override {
        std::lock_guard lock(mu_);
        auto& l = leases_[name];
        if (l.token.empty() || Clock::now() >= l.expires || l.token == token) {
            l.token = token;
            l.expires = Clock::now() + ttl;
            co_return true;
        }
        co_return false;
    }
    asio::awaitable<void> Release(const std::string& name, const std::string& token) override {
        std::lock_guard lock(mu_);
        if (leases_[name].token == token) leases_.erase(name);
        co_return;
    }

  private:
    struct Lease {
        std::string token;
        Clock::time_point expires;
    };
    std::mutex mu_;
    std::map<std::string, Lease> leases_;
};

asio::awaitable<void> SleepFor(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

TEST(JobRunner, RunsEveryPeriodUntilStopped) {
    Loop loop;
    std::atomic<int> runs{0};
    JobRunner runner(loop.ioc.get_executor(), nullptr, "a");
    runner.Add({.name = "t-every", .period = 10ms}, [&]() -> asio::awaitable<Status> {
        ++runs;
        co_return Status{};
    });
    runner.Start();
    EXPECT_TRUE(WaitUntil([&] { return runs >= 5; }));
    runner.Stop();
    const int after_stop = runs;
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(runs, after_stop) << "a job ran after Stop() returned";
}

TEST(JobRunner, RunAtStartRunsBeforeTheFirstPeriod) {
    Loop loop;
    std::atomic<int> runs{0};
    JobRunner runner(loop.ioc.get_executor(), nullptr, "a");
    runner.Add({.name = "t-start", .period = 1h, .run_at_start = true},
               [&]() -> asio::awaitable<Status> {
                   ++runs;
                   co_return Status{};
               });
    runner.Start();
    EXPECT_TRUE(WaitUntil([&] { return runs == 1; }));
    runner.Stop();  // ends the hour's wait at once
    EXPECT_EQ(runs, 1);
}

TEST(JobRunner, BacksOffAfterFailuresAndRecovers) {
    Loop loop;
    std::mutex mu;
    std::vector<Clock::time_point> at;
    JobRunner runner(loop.ioc.get_executor(), nullptr, "a");
    runner.Add({.name = "t-backoff", .period = 10ms, .jitter = 0, .max_backoff = 80ms},
               [&]() -> asio::awaitable<Status> {
                   std::lock_guard lock(mu);
                   at.push_back(Clock::now());
                   if (at.size() <= 4) co_return Error::Unavailable("down");
                   if (at.size() == 5) throw std::runtime_error("a bug");
                   co_return Status{};
               });
    runner.Start();
    EXPECT_TRUE(WaitUntil([&] {
        std::lock_guard lock(mu);
        return at.size() >= 8;
    }));
    runner.Stop();
    std::lock_guard lock(mu);
    auto gap = [&](std::size_t i) { return at[i] - at[i - 1]; };
    // Waits after failures 1..3: 20, 40, 80 ms (doubling), capped at max_backoff; an exception
    // counts as a failure too (80 ms after it); after the first success, the period again.
    EXPECT_GE(gap(2), 35ms);
    EXPECT_GE(gap(3), 75ms);
    EXPECT_GE(gap(4), 75ms);
    EXPECT_GE(gap(5), 75ms);
    EXPECT_LT(gap(7), 60ms);
}

TEST(JobRunner, ALeasedJobNeverRunsOnTwoInstancesAtOnce) {
    Loop loop_a, loop_b;
    MemoryLeases leases;
    std::atomic<int> inside{0}, overlaps{0}, runs_a{0}, runs_b{0};
    auto body = [&](std::atomic<int>& runs) {
        return [&]() -> asio::awaitable<Status> {
            if (++inside > 1) ++overlaps;
            ++runs;
            // Longer than the lease (one period): the holder must renew it while it runs.
            co_await SleepFor(60ms);
            --inside;
            co_return Status{};
        };
    };
    JobRunner a(loop_a.ioc.get_executor(), &leases, "a");
    JobRunner b(loop_b.ioc.get_executor(), &leases, "b");
    a.Add({.name = "t-leased", .period = 15ms, .leased = true}, body(runs_a));
    b.Add({.name = "t-leased", .period = 15ms, .leased = true}, body(runs_b));
    a.Start();
    b.Start();
    EXPECT_TRUE(WaitUntil([&] { return runs_a + runs_b >= 8; }));
    a.Stop();
    // The lease outlives the stopped holder by at most a period: then the other takes over.
    const int b_before = runs_b;
    EXPECT_TRUE(WaitUntil([&] { return runs_b >= b_before + 2; }));
    b.Stop();
    EXPECT_EQ(overlaps, 0);
}

TEST(JobRunner, ALeasedJobWithoutALeaseStoreIsRefused) {
    Loop loop;
    JobRunner runner(loop.ioc.get_executor(), nullptr, "a");
    EXPECT_THROW(runner.Add({.name = "t-refused", .leased = true},
                            []() -> asio::awaitable<Status> { co_return Status{}; }),
                 std::logic_error);
}

}  // namespace
}  // namespace joopang::workers
