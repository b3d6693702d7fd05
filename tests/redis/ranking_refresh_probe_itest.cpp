// The ranking refresh never blocks Redis for long (SPEC §5: at most 5 ms at a time at 500,000
// products × 7 daily buckets). A real redis-server is seeded directly with a 7-day window of
// 500,000 products — seven daily buckets and the window's sums, for every metric — and a bucket
// is then retired and the window's rankings published, while another connection sends PING every
// 2 ms. Printed: the script calls as Redis timed them, and the PING waits next to those of the
// same Redis idle (this shared virtual machine stalls an idle Redis for tens of ms now and
// then). The script calls stay under 5 ms (99th percentile), the PING waits near the idle run's,
// and the sums are exact at this size. The same for moving the decay landmark on, which rescales
// every score key.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

#include "app/ranking_publisher.hpp"
#include "infra/redis/redis_ranking_store.hpp"
#include "redis_test_support.hpp"

namespace joopang::redis {
namespace {

constexpr EpochMs kDay = 86'400'000;
constexpr int kProducts = 500'000;
constexpr const char* kMetrics[] = {"sales", "revenue", "views", "score"};

// Fills a sorted set with members 1..n (zero-padded ids, as the scripts write them) valued
// (id % 97 + 1) × ARGV[2], 1000 per ZADD.
constexpr const char* kFill = R"(
local n, times = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, n, 1000 do
  local args = {}
  for j = i, math.min(n, i + 999) do
    args[#args + 1] = ((j % 97) + 1) * times
    args[#args + 1] = string.format('%019d', j)
  end
  redis.call('ZADD', KEYS[1], unpack(args))
end
return redis.call('ZCARD', KEYS[1]))";

/// PINGs every 2 ms on a connection of its own and keeps every round trip.
class PingProbe {
  public:
    explicit PingProbe(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("probe: cannot connect");
        thread_ = std::thread([this] { Loop(); });
    }
    ~PingProbe() {
        Stop();
        ::close(fd_);
    }
    void Stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        std::sort(waits_us_.begin(), waits_us_.end());
    }
    /// After Stop(): the waits, sorted.
    double worst_ms() const { return waits_us_.empty() ? 0 : waits_us_.back() / 1000.0; }
    double percentile_ms(double p) const {
        if (waits_us_.empty()) return 0;
        auto i = static_cast<std::size_t>(p * static_cast<double>(waits_us_.size() - 1));
        return waits_us_[i] / 1000.0;
    }
    /// Waits longer than `ms`, per thousand pings.
    double over_per_mille(double ms) const {
        auto n = std::count_if(waits_us_.begin(), waits_us_.end(),
                               [&](long us) { return us > ms * 1000; });
        return waits_us_.empty() ? 0 : 1000.0 * static_cast<double>(n) / waits_us_.size();
    }
    long pings() const { return static_cast<long>(waits_us_.size()); }
    std::string Summary() const {
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "%ld pings, worst %.2f ms, p99.9 %.2f ms, p99 %.2f ms, over 5 ms %.2f per "
                      "thousand",
                      pings(), worst_ms(), percentile_ms(0.999), percentile_ms(0.99),
                      over_per_mille(5.0));
        return buf;
    }

  private:
    void Loop() {
        char buf[64];
        while (!stop_) {
            const auto sent = std::chrono::steady_clock::now();
            if (::send(fd_, "PING\r\n", 6, 0) != 6) return;
            if (::recv(fd_, buf, sizeof buf, 0) <= 0) return;
            const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - sent)
                                .count();
            waits_us_.push_back(us);
            std::this_thread::sleep_until(sent + std::chrono::milliseconds(2));
        }
    }
    int fd_ = -1;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::vector<long> waits_us_;  // the probe thread's until Stop()
};

/// Redis's own timing of the script calls since CONFIG RESETSTAT (LATENCY HISTOGRAM), to tell a
/// step's own duration from the machine's stalls: cumulative counts per power-of-two bound (µs).
struct ScriptTimes {
    std::vector<std::pair<long long, long long>> cumulative;
    long long calls = 0;

    static ScriptTimes From(const Reply& histogram) {
        ScriptTimes out;
        const auto& fields = histogram.elements.at(1).elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
            if (fields[i].str == "histogram_usec")
                for (std::size_t j = 0; j + 1 < fields[i + 1].elements.size(); j += 2)
                    out.cumulative.emplace_back(fields[i + 1].elements[j].integer,
                                                fields[i + 1].elements[j + 1].integer);
        if (!out.cumulative.empty()) out.calls = out.cumulative.back().second;
        return out;
    }
    /// The bound below which `per_mille` of the calls ended.
    double within_ms(long long per_mille) const {
        for (auto [bound, count] : cumulative)
            if (count * 1000 >= calls * per_mille) return bound / 1000.0;
        return cumulative.empty() ? 0 : cumulative.back().first / 1000.0;
    }
    std::string Summary() const {
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "%lld; 99%% within %.3f ms, 99.9%% within %.3f ms, all within %.3f ms", calls,
                      within_ms(990), within_ms(999), within_ms(1000));
        return buf;
    }
};

class RankingRefreshProbeTest : public testing::OneClientTest {
  protected:
    /// Fills `key` with members 1..kProducts valued (id % 97 + 1) × times.
    void Fill(const std::string& key, int times) {
        Must(MakeArgs("EVAL", kFill, "1", key, std::to_string(kProducts), std::to_string(times)));
    }
    ScriptTimes ReadScriptTimes() {
        return ScriptTimes::From(Must(MakeArgs("LATENCY", "HISTOGRAM", "evalsha")));
    }
};

TEST_F(RankingRefreshProbeTest, RetiringAndPublishingAt500kProductsBlocksRedisForLessThan5ms) {
    const auto week = *FindRankingWindow("7d");
    const EpochMs now = 1'700'000'000'000 / kDay * kDay + 3'600'000;  // 01:00 on some day
    const std::int64_t today = now / kDay, oldest = today - 6;
    const auto started = std::chrono::steady_clock::now();
    for (const char* m : kMetrics) {
        for (std::int64_t b = oldest; b <= today; ++b)
            Fill("rank:{rank}:b:d7:" + std::to_string(b) + ":" + m + ":all", 1);
        Fill(std::string("rank:{rank}:w:d7:") + m + ":all", 7);
    }
    Must(MakeArgs("HSET", "rank:{rank}:edge", "d7", std::to_string(oldest)));
    Must(MakeArgs("SET", "rank:{rank}:landmark", std::to_string(now - now % (7 * kDay))));
    std::printf("seeded %d products x 7 daily buckets x 4 metrics in %.1f s\n", kProducts,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

    // What this machine does to an idle Redis holding all this, for comparison.
    PingProbe idle(server_->port());
    std::this_thread::sleep_for(std::chrono::seconds(6));
    idle.Stop();
    RedisRankingStore store(client_, RankingWeights{});
    // Redis's own timing of the script calls (LATENCY HISTOGRAM), to tell a step's own
    // duration from the machine's stalls.
    Must(MakeArgs("CONFIG", "RESETSTAT"));
    PingProbe probe(server_->port());
    // A day later the oldest bucket has left the window: retired step by step, paced as the
    // refresh job paces it (RankingPublisher::Settings), then the window's rankings are read
    // and published.
    const auto retire_started = std::chrono::steady_clock::now();
    int steps = 0;
    for (bool more = true; more; ++steps) {
        auto r = Run(store.Retire(now + kDay, 1));
        ASSERT_TRUE(r) << r.error().message;
        more = *r;
        std::this_thread::sleep_for(RankingPublisher::Settings{}.step_pause);
    }
    const double retire_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - retire_started).count();
    auto set = Run(store.Collect(week, 0, 100, now + kDay));
    ASSERT_TRUE(set) << set.error().message;
    auto published = Run(store.Publish(week, 0, *set, 60'000));
    ASSERT_TRUE(published) << published.error().message;
    probe.Stop();
    const ScriptTimes scripts = ReadScriptTimes();
    ASSERT_GE(scripts.calls, steps);
    std::printf(
        "retired a bucket of %d products x 4 metrics in %d steps (%.1f s), then read and "
        "published the 7d rankings\n",
        kProducts, steps, retire_s);
    std::printf("script calls as Redis timed them: %s\n", scripts.Summary().c_str());
    std::printf("PING every 2 ms while refreshing: %s\n", probe.Summary().c_str());
    std::printf("PING every 2 ms, Redis idle:      %s\n", idle.Summary().c_str());
    // What the refresh itself blocks: its script calls, as Redis timed them. On this shared
    // virtual machine an idle Redis holding this much is itself stalled now and then for tens of
    // ms (printed above), so the PING waits' tail is the machine's: they are held to the idle
    // run's, and to no wait of the order of a union (a ZUNIONSTORE here blocks for seconds).
    EXPECT_LT(scripts.within_ms(990), 5.0);
    EXPECT_LT(probe.percentile_ms(0.99), idle.percentile_ms(0.99) + 5.0);
    EXPECT_LT(probe.worst_ms(), 250.0);
    EXPECT_GT(probe.pings(), 1000);

    // Exact at this size: every product's sum lost the retired bucket's share.
    for (const char* member :
         {"0000000000000000001", "0000000000000250000", "0000000000000500000"}) {
        const int id = std::stoi(member);
        auto r = Must(MakeArgs("ZSCORE", "rank:{rank}:w:d7:sales:all", member));
        EXPECT_EQ(std::stod(r.str), 6.0 * (id % 97 + 1)) << member;
    }
    // The published 7d sales ranking: the highest value (97 × 6), lowest ids first.
    ASSERT_EQ((*set)[0].items.size(), 100u);
    EXPECT_EQ((*set)[0].items[0].sales, 97 * 6);
    EXPECT_EQ((*set)[0].items[0].product_id, 96);
    EXPECT_LT((*set)[0].items[0].product_id, (*set)[0].items[1].product_id);
}

// Moving the decay landmark on (once in 256 half-lives) rescales every score key: at 500,000
// products, the 7-day window's sum and its seven daily buckets, 4,000,000 members, moved in
// steps paced as the refresh job paces them.
TEST_F(RankingRefreshProbeTest, MovingTheLandmarkAt500kProductsBlocksRedisForLessThan5ms) {
    const EpochMs now = 1'700'000'000'000 / kDay * kDay + 3'600'000;
    const std::int64_t today = now / kDay, oldest = today - 6;
    for (std::int64_t b = oldest; b <= today; ++b)
        Fill("rank:{rank}:b:d7:" + std::to_string(b) + ":score:all", 1);
    Fill("rank:{rank}:w:d7:score:all", 7);
    Must(MakeArgs("HSET", "rank:{rank}:edge", "d7", std::to_string(oldest)));
    const RankingWeights weights{};  // a half-life of a day: the landmark is 256 days old
    const EpochMs landmark = now - 256 * weights.half_life_ms;
    Must(MakeArgs("SET", "rank:{rank}:landmark", std::to_string(landmark)));

    RedisRankingStore store(client_, weights);
    Must(MakeArgs("CONFIG", "RESETSTAT"));
    PingProbe probe(server_->port());
    const auto started = std::chrono::steady_clock::now();
    int steps = 0;
    for (bool more = true; more; ++steps) {
        auto r = Run(store.Rebase(now, 1));
        ASSERT_TRUE(r) << r.error().message;
        more = *r;
        std::this_thread::sleep_for(RankingPublisher::Settings{}.step_pause);
    }
    const double took_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    probe.Stop();
    const ScriptTimes scripts = ReadScriptTimes();
    std::printf(
        "moved the landmark 256 half-lives on: %d products x 8 score keys in %d steps "
        "(%.1f s)\n",
        kProducts, steps, took_s);
    std::printf("script calls as Redis timed them: %s\n", scripts.Summary().c_str());
    std::printf("PING every 2 ms while moving: %s\n", probe.Summary().c_str());
    EXPECT_LT(scripts.within_ms(990), 5.0);
    EXPECT_LT(probe.worst_ms(), 250.0);

    // Exact: each value divided by 2^256, nothing lost.
    EXPECT_EQ(std::stoll(Must(MakeArgs("GET", "rank:{rank}:landmark")).str), now);
    for (const char* member :
         {"0000000000000000001", "0000000000000250000", "0000000000000500000"}) {
        const int id = std::stoi(member);
        auto r = Must(MakeArgs("ZSCORE", "rank:{rank}:w:d7:score:all", member));
        EXPECT_EQ(std::stod(r.str), std::ldexp(7.0 * (id % 97 + 1), -256)) << member;
    }
    EXPECT_EQ(Must(MakeArgs("ZCARD", "rank:{rank}:w:d7:score:all")).integer, kProducts);
    EXPECT_EQ(Must(MakeArgs("ZCARD", "rank:{rank}:b:d7:" + std::to_string(oldest) + ":score:all"))
                  .integer,
              kProducts);
}

}  // namespace
}  // namespace joopang::redis
