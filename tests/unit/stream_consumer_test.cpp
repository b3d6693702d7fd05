// The stream-consumer engine against a message store and a handler in memory: every message is
// handled and acknowledged, a poison message is isolated and dead-lettered after max_deliveries
// while its entry's other messages land, a malformed entry goes to the dead letters untouched,
// and an unavailable handler backs off without counting failures against the messages; a stream
// with nothing to do for a while is read only now and then, and wakes when work comes.

#include "workers/stream_consumer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "async_test_support.hpp"
#include "workers/stream_consumer_impl.hpp"

namespace joopang::workers {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using test_support::Loop;
using test_support::WaitUntil;

struct TestMessage {
    std::string entry_id;
    bool malformed = false;
    int value = 0;  // negative: a poison message the handler always refuses
};

/// Streams in memory: entries of messages, delivered to one consumer each, acknowledged once.
class MemoryGroup final : public StreamGroup<TestMessage, int> {
  public:
    struct Entry {
        std::string id;
        std::vector<TestMessage> messages;
        std::string owner;  // consumer it was delivered to; empty = not yet
        bool acked = false;
        int acks = 0;
    };
    std::mutex mu;
    std::map<std::int64_t, std::vector<Entry>> streams;
    std::map<int, std::int64_t> failures;  // by message value
    std::vector<TestMessage> dead;
    std::vector<int> receipts;
    std::map<std::int64_t, int> new_reads;  // ReadNew calls by stream

    void Add(std::int64_t key, std::vector<int> values, bool malformed = false) {
        std::lock_guard lock(mu);
        auto& s = streams[key];
        Entry e;
        e.id = std::to_string(key) + "-" + std::to_string(s.size());
        for (int v : values) e.messages.push_back({e.id, malformed, v});
        if (malformed) e.messages.resize(1);
        s.push_back(std::move(e));
    }

    std::string StreamName(std::int64_t key) const override { return "s" + std::to_string(key); }
    Awaitable<Result<std::vector<std::int64_t>>> Streams() override {
        std::lock_guard lock(mu);
        std::vector<std::int64_t> keys;
        for (auto& [k, _] : streams) keys.push_back(k);
        co_return keys;
    }
    Awaitable<Status> EnsureGroup(std::int64_t) override { co_return Status{}; }
    Awaitable<Result<std::vector<TestMessage>>> Read(std::int64_t key,
                                                     const std::string& consumer,
                                                     int count,
                                                     bool fresh) {
        std::lock_guard lock(mu);
        if (fresh) ++new_reads[key];
        std::vector<TestMessage> out;
        for (auto& e : streams[key]) {
            if (static_cast<int>(out.size()) >= count) break;
            if (e.acked || (fresh ? !e.owner.empty() : e.owner != consumer)) continue;
            e.owner = consumer;
            out.insert(out.end(), e.messages.begin(), e.messages.end());
        }
        co_return out;
    }
    Awaitable<Result<std::vector<TestMessage>>> ReadPending(std::int64_t key,
                                                            const std::string& consumer,
                                                            int count) override {
        return Read(key, consumer, count, false);
    }
    Awaitable<Result<std::vector<TestMessage>>> ReadNew(std::int64_t key,
                                                        const std::string& consumer,
                                                        int count) override {
        return Read(key, consumer, count, true);
    }
    Awaitable<Result<std::vector<TestMessage>>> Reclaim(std::int64_t,
                                                        const std::string&,
                                                        std::int64_t,
                                                        int) override {
        co_return std::vector<TestMessage>{};
    }
    Awaitable<Status> Complete(std::int64_t key,
                               const std::vector<std::string>& entry_ids,
                               const std::vector<int>& r,
                               const std::vector<TestMessage>& handled) override {
        std::lock_guard lock(mu);
        EXPECT_EQ(r.size(), handled.size());
        receipts.insert(receipts.end(), r.begin(), r.end());
        for (const auto& id : entry_ids)
            for (auto& e : streams[key])
                if (e.id == id) {
                    e.acked = true;
                    ++e.acks;
                }
        co_return Status{};
    }
    Awaitable<Result<std::int64_t>> RecordFailure(std::int64_t, const TestMessage& m) override {
        std::lock_guard lock(mu);
        co_return ++failures[m.value];
    }
    Awaitable<Status> DeadLetter(std::int64_t key,
                                 const TestMessage& m,
                                 const std::string&) override {
        std::lock_guard lock(mu);
        dead.push_back(m);
        if (m.malformed)
            for (auto& e : streams[key])
                if (e.id == m.entry_id) e.acked = true;
        co_return Status{};
    }
    Awaitable<Result<std::int64_t>> ForgetIdleConsumers(std::int64_t, std::int64_t) override {
        co_return std::int64_t{0};
    }
    Awaitable<Result<std::int64_t>> Replay(const std::string&) override {
        co_return std::int64_t{0};
    }
    Awaitable<Result<std::vector<StreamStats>>> Stats() override {
        co_return std::vector<StreamStats>{};
    }

    bool AllAcked() {
        std::lock_guard lock(mu);
        for (auto& [_, s] : streams)
            for (auto& e : s)
                if (!e.acked) return false;
        return true;
    }
};

/// Applies values to a set (the "database"), idempotently as the real handlers are (a message
/// delivered again is a no-op); refuses poison values; can be made unavailable.
class MemoryHandler final : public StreamHandler<TestMessage, int> {
  public:
    std::mutex mu;
    std::set<int> applied;
    int handled = 0;            // messages in successful calls, counting repeats
    int unavailable_calls = 0;  // the next N calls answer kUnavailable
    int calls = 0;

    int prepare_unavailable = 0;  // the next N Prepare calls answer kUnavailable
    std::size_t completed = 0;    // messages reported by Completed()

    asio::awaitable<Status> Prepare(std::int64_t) override {
        std::lock_guard lock(mu);
        if (prepare_unavailable > 0) {
            --prepare_unavailable;
            co_return Error::Unavailable("database down at start");
        }
        co_return Status{};
    }
    void Completed(std::int64_t, std::size_t messages) override {
        std::lock_guard lock(mu);
        completed += messages;
    }
    asio::awaitable<Result<std::vector<int>>> Handle(
        std::int64_t, const std::vector<TestMessage>& batch) override {
        std::lock_guard lock(mu);
        ++calls;
        if (unavailable_calls > 0) {
            --unavailable_calls;
            co_return Error::Unavailable("database down");
        }
        for (const auto& m : batch)
            if (m.value < 0) co_return Error::Internal("constraint violated");
        std::vector<int> receipts;
        for (const auto& m : batch) {
            applied.insert(m.value);
            ++handled;
            receipts.push_back(m.value * 10);
        }
        co_return receipts;
    }
};

StreamConsumerSettings FastSettings(int lanes) {
    StreamConsumerSettings s;
    s.name = "test consumer";
    s.consumer = "c";
    s.batch = 7;
    s.lanes = lanes;
    s.max_deliveries = 3;
    s.retry_delay = 1ms;
    s.idle_poll = 1ms;
    s.idle_poll_max = 2ms;
    s.streams_refresh = 1ms;
    s.forget_consumers_after = 0ms;
    return s;
}

TEST(StreamConsumer, HandlesEveryMessageOnceAndAcknowledgesEveryEntry) {
    MemoryGroup group;
    MemoryHandler handler;
    std::set<int> expected;
    std::size_t messages = 0;
    for (int e = 0; e < 40; ++e) {
        std::vector<int> values;
        for (int k = 0; k < 1 + e % 5; ++k) values.push_back(e * 10 + k);
        group.Add(e % 3, values);
        expected.insert(values.begin(), values.end());
        messages += values.size();
    }
    Loop loop;
    StreamConsumer<TestMessage, int> consumer(loop.ioc.get_executor(), group, handler,
                                              FastSettings(3));
    consumer.Start();
    EXPECT_TRUE(WaitUntil([&] { return group.AllAcked(); }));
    consumer.Stop();
    std::lock_guard lock(handler.mu);
    EXPECT_EQ(handler.applied, expected);
    EXPECT_EQ(handler.handled, static_cast<int>(messages)) << "without failures, each once";
    std::lock_guard glock(group.mu);
    EXPECT_EQ(group.receipts.size(), messages);
    for (auto& [_, s] : group.streams)
        for (auto& e : s) EXPECT_EQ(e.acks, 1) << e.id;
    EXPECT_TRUE(group.dead.empty());
}

TEST(StreamConsumer, APoisonMessageIsDeadLetteredAloneAndItsEntrysOthersLand) {
    MemoryGroup group;
    MemoryHandler handler;
    group.Add(1, {1, 2});
    group.Add(1, {3, -4, 5});  // one entry: -4 can never be handled
    group.Add(1, {6});
    Loop loop;
    StreamConsumer<TestMessage, int> consumer(loop.ioc.get_executor(), group, handler,
                                              FastSettings(1));
    consumer.Start();
    EXPECT_TRUE(WaitUntil([&] { return group.AllAcked(); }));
    consumer.Stop();
    std::lock_guard lock(handler.mu);
    EXPECT_EQ(handler.applied, (std::set<int>{1, 2, 3, 5, 6}));
    std::lock_guard glock(group.mu);
    ASSERT_EQ(group.dead.size(), 1u);
    EXPECT_EQ(group.dead[0].value, -4);
    EXPECT_EQ(group.failures[-4], 3) << "dead-lettered at max_deliveries, not before";
    EXPECT_EQ(group.failures.count(3), 0u) << "a sibling of the poison counted no failure";
}

TEST(StreamConsumer, AMalformedEntryIsDeadLetteredWithoutReachingTheHandler) {
    MemoryGroup group;
    MemoryHandler handler;
    group.Add(2, {7}, /*malformed=*/true);
    group.Add(2, {8});
    Loop loop;
    StreamConsumer<TestMessage, int> consumer(loop.ioc.get_executor(), group, handler,
                                              FastSettings(1));
    consumer.Start();
    EXPECT_TRUE(WaitUntil([&] { return group.AllAcked(); }));
    consumer.Stop();
    std::lock_guard lock(handler.mu);
    EXPECT_EQ(handler.applied, (std::set<int>{8}));
    std::lock_guard glock(group.mu);
    ASSERT_EQ(group.dead.size(), 1u);
    EXPECT_TRUE(group.dead[0].malformed);
    EXPECT_TRUE(group.failures.empty());
}

TEST(StreamConsumer, AnUnavailableHandlerBacksOffWithoutCountingFailures) {
    MemoryGroup group;
    MemoryHandler handler;
    handler.unavailable_calls = 3;
    group.Add(3, {1, 2, 3});
    Loop loop;
    auto settings = FastSettings(1);
    settings.max_deliveries = 2;  // three outages must not dead-letter anything
    StreamConsumer<TestMessage, int> consumer(loop.ioc.get_executor(), group, handler, settings);
    consumer.Start();
    EXPECT_TRUE(WaitUntil([&] { return group.AllAcked(); }));
    consumer.Stop();
    std::lock_guard lock(handler.mu);
    EXPECT_EQ(handler.applied, (std::set<int>{1, 2, 3}));
    EXPECT_GE(handler.calls, 4);
    std::lock_guard glock(group.mu);
    EXPECT_TRUE(group.failures.empty());
    EXPECT_TRUE(group.dead.empty());
}

TEST(StreamConsumer, ALaneWhoseFirstPrepareFoundTheStoreDownStillReadsNewEntries) {
    MemoryGroup group;
    MemoryHandler handler;
    handler.prepare_unavailable = 1;
    group.Add(4, {1, 2});
    group.Add(4, {3});
    Loop loop;
    StreamConsumer<TestMessage, int> consumer(loop.ioc.get_executor(), group, handler,
                                              FastSettings(1));
    consumer.Start();
    EXPECT_TRUE(WaitUntil([&] { return group.AllAcked(); }, 5s));
    consumer.Stop();
    std::lock_guard lock(handler.mu);
    EXPECT_EQ(handler.applied, (std::set<int>{1, 2, 3}));
    EXPECT_EQ(handler.completed, 3u) << "Completed() reports what was acknowledged";
}

TEST(StreamConsumer, AQuietStreamIsReadOnlyEachQuietPollAndWakesWhenWorkComes) {
    MemoryGroup group;
    MemoryHandler handler;
    group.Add(1, {1});
    group.Add(2, {2});
    Loop loop;
    auto settings = FastSettings(3);  // idle, each lane polls every 1-2 ms
    settings.quiet_after = 20ms;
    settings.quiet_poll = 300ms;
    StreamConsumer<TestMessage, int> consumer(loop.ioc.get_executor(), group, handler, settings);
    consumer.Start();
    EXPECT_TRUE(WaitUntil([&] { return group.AllAcked(); }));
    std::this_thread::sleep_for(100ms);  // both streams go quiet
    {
        std::lock_guard lock(group.mu);
        group.new_reads.clear();
    }
    std::this_thread::sleep_for(600ms);
    {
        std::lock_guard lock(group.mu);
        // Busy, three lanes would read each stream hundreds of times in 600 ms; quiet, only the
        // first lane reads it, every 300 ms (and a helper once more before it sees it quiet).
        EXPECT_LE(group.new_reads[1], 8);
        EXPECT_LE(group.new_reads[2], 8);
    }
    // Work in a quiet stream is found at its next read, and a stream first seen is read at once.
    group.Add(2, {3});
    group.Add(3, {4});
    EXPECT_TRUE(WaitUntil([&] { return group.AllAcked(); }, 5s));
    consumer.Stop();
    std::lock_guard lock(handler.mu);
    EXPECT_EQ(handler.applied, (std::set<int>{1, 2, 3, 4}));
}

TEST(StreamConsumer, WithQuietAfterZeroAStreamIsNeverQuiet) {
    MemoryGroup group;
    MemoryHandler handler;
    group.Add(1, {1});
    Loop loop;
    auto settings = FastSettings(1);
    settings.quiet_after = 0ms;
    settings.quiet_poll = 300ms;
    StreamConsumer<TestMessage, int> consumer(loop.ioc.get_executor(), group, handler, settings);
    consumer.Start();
    EXPECT_TRUE(WaitUntil([&] { return group.AllAcked(); }));
    std::this_thread::sleep_for(100ms);
    {
        std::lock_guard lock(group.mu);
        group.new_reads.clear();
    }
    std::this_thread::sleep_for(600ms);
    consumer.Stop();
    std::lock_guard lock(group.mu);
    EXPECT_GE(group.new_reads[1], 20) << "read on every pass (every 1-2 ms), not every 300 ms";
}

}  // namespace
}  // namespace joopang::workers
