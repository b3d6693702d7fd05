// The stream-consumer engine on a real redis-server through the generic adapter: a user gives a
// decoder and a handler and nothing else. Every entry is handled, a poison entry and a malformed
// one end in the dead letters once each (and come back on replay), and entries a dead consumer
// held are taken over.

#include <gtest/gtest.h>

#include <boost/asio/strand.hpp>
#include <mutex>
#include <set>

#include "infra/redis/numbers.hpp"
#include "infra/redis/redis_stream_group.hpp"
#include "redis_test_support.hpp"
#include "workers/stream_consumer.hpp"
#include "workers/stream_consumer_impl.hpp"

namespace joopang::redis {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

struct Event {
    std::string entry_id;
    bool malformed = false;
    int value = 0;
};

/// The decoder: one event per entry, its value in field "v".
void DecodeEvent(std::int64_t, const StreamEntry& e, std::vector<Event>& out) {
    Event ev;
    ev.entry_id = e.id;
    std::optional<int> v;
    for (const auto& [k, val] : e.fields)
        if (k == "v") v = ParseInteger<int>(val);
    ev.malformed = !v;
    ev.value = v.value_or(0);
    out.push_back(ev);
}

/// Applies values to a set, idempotently; a negative value can never be applied.
class SetHandler final : public workers::StreamHandler<Event, int> {
  public:
    std::mutex mu;
    std::set<int> applied;
    asio::awaitable<Status> Prepare(std::int64_t) override { co_return Status{}; }
    asio::awaitable<Result<std::vector<int>>> Handle(std::int64_t,
                                                     const std::vector<Event>& batch) override {
        for (const auto& e : batch)
            if (e.value < 0) co_return Error::Internal("negative value");
        std::lock_guard lock(mu);
        for (const auto& e : batch) applied.insert(e.value);
        co_return std::vector<int>(batch.size(), 0);
    }
    std::size_t Count() {
        std::lock_guard lock(mu);
        return applied.size();
    }
};

class StreamConsumerRedisTest : public testing::OneClientTest {
  protected:
    std::int64_t Integer(Args args) { return Must(std::move(args)).integer; }

    RedisStreamGroupSettings GroupSettings(const std::string& stream) {
        RedisStreamGroupSettings s;
        s.group = "g";
        s.stream_name = [stream](std::int64_t) { return stream; };
        return s;
    }

    workers::StreamConsumerSettings Fast(const std::string& consumer) {
        workers::StreamConsumerSettings s;
        s.name = "test events";
        s.consumer = consumer;
        s.batch = 50;
        s.lanes = 2;
        s.max_deliveries = 2;
        s.retry_delay = 10ms;
        s.claim_idle = 300ms;
        s.idle_poll = 2ms;
        s.idle_poll_max = 10ms;
        return s;
    }

    template <class F>
    bool WaitUntil(F done, std::chrono::milliseconds limit = 15s) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > end) return false;
            std::this_thread::sleep_for(10ms);
        }
        return true;
    }
};

TEST_F(StreamConsumerRedisTest, HandlesEveryEntryAndDeadLettersThePoisonAndTheMalformedOnce) {
    const std::string stream = "{ev1}:events";
    Must(MakeArgs("XGROUP", "CREATE", stream, "g", "0", "MKSTREAM"));
    for (int i = 1; i <= 300; ++i) {
        Must(MakeArgs("XADD", stream, "*", "v", std::to_string(i)));
        if (i == 100) Must(MakeArgs("XADD", stream, "*", "v", "-7"));      // poison
        if (i == 200) Must(MakeArgs("XADD", stream, "*", "x", "broken"));  // malformed
    }
    RedisStreamGroup<Event, int> group(client_, GroupSettings(stream), DecodeEvent);
    SetHandler handler;
    workers::StreamConsumer<Event, int> consumer(asio::make_strand(io_), group, handler,
                                                 Fast("c1"));
    consumer.Start();
    auto settled = [&] {
        auto pending = Must(MakeArgs("XPENDING", stream, "g"));
        return handler.Count() == 300 && Integer(MakeArgs("XLEN", stream + ":dlq")) == 2 &&
               pending.elements.at(0).integer == 0;
    };
    EXPECT_TRUE(WaitUntil(settled));
    EXPECT_EQ(Integer(MakeArgs("XLEN", stream + ":dlq")), 2) << "each dead-lettered once";
    EXPECT_EQ(Integer(MakeArgs("HLEN", stream + ":fail")), 0) << "failures forgotten on ack";
    EXPECT_EQ(Integer(MakeArgs("HLEN", stream + ":dead")), 0) << "marks forgotten on ack";
    EXPECT_EQ(Integer(MakeArgs("XLEN", stream)), 0) << "trimmed behind the acknowledgements";

    // A replay puts both back; both fail again and return to the dead letters, once each.
    auto replayed = Run(group.Replay(stream));
    ASSERT_TRUE(replayed) << replayed.error().message;
    EXPECT_EQ(*replayed, 2);
    EXPECT_TRUE(WaitUntil([&] {
        auto pending = Must(MakeArgs("XPENDING", stream, "g"));
        return Integer(MakeArgs("XLEN", stream + ":dlq")) == 2 &&
               pending.elements.at(0).integer == 0 && Integer(MakeArgs("XLEN", stream)) == 0;
    }));
    consumer.Stop();
    auto stats = Run(group.Stats());
    ASSERT_TRUE(stats);
    ASSERT_EQ(stats->size(), 1u);
    EXPECT_EQ((*stats)[0].dead_letter_length, 2);
    EXPECT_EQ((*stats)[0].pending, 0);
}

TEST_F(StreamConsumerRedisTest, EntriesADeadConsumerHeldAreTakenOver) {
    const std::string stream = "{ev2}:events";
    Must(MakeArgs("XGROUP", "CREATE", stream, "g", "0", "MKSTREAM"));
    for (int i = 1; i <= 40; ++i) Must(MakeArgs("XADD", stream, "*", "v", std::to_string(i)));
    // A consumer reads 15 entries and dies without acknowledging them.
    auto taken =
        Must(MakeArgs("XREADGROUP", "GROUP", "g", "dead", "COUNT", "15", "STREAMS", stream, ">"));
    ASSERT_EQ(taken.elements.at(0).elements.at(1).elements.size(), 15u);
    RedisStreamGroup<Event, int> group(client_, GroupSettings(stream), DecodeEvent);
    SetHandler handler;
    workers::StreamConsumer<Event, int> consumer(asio::make_strand(io_), group, handler,
                                                 Fast("c2"));
    consumer.Start();
    EXPECT_TRUE(WaitUntil([&] {
        auto pending = Must(MakeArgs("XPENDING", stream, "g"));
        return handler.Count() == 40 && pending.elements.at(0).integer == 0;
    }));
    consumer.Stop();
    EXPECT_EQ(handler.Count(), 40u);
}

TEST_F(StreamConsumerRedisTest, AnEntryIsDeadLetteredOnceEvenWhenDeliveredAgainBeforeItsAck) {
    // As after a crash between the dead-lettering and the acknowledgement: the entry comes back
    // and fails again.
    const std::string stream = "{ev3}:events";
    Must(MakeArgs("XGROUP", "CREATE", stream, "g", "0", "MKSTREAM"));
    const std::string id = Must(MakeArgs("XADD", stream, "*", "v", "-1")).str;
    Must(MakeArgs("XREADGROUP", "GROUP", "g", "c", "STREAMS", stream, ">"));
    RedisStreamGroup<Event, int> group(client_, GroupSettings(stream), DecodeEvent);
    Event poison{id, false, -1};
    ASSERT_TRUE(Run(group.DeadLetter(0, poison, "first")));
    ASSERT_TRUE(Run(group.DeadLetter(0, poison, "again")));
    EXPECT_EQ(Integer(MakeArgs("XLEN", stream + ":dlq")), 1);
    ASSERT_TRUE(Run(group.Complete(0, {id}, {}, {poison})));
    EXPECT_EQ(Integer(MakeArgs("HLEN", stream + ":dead")), 0);
    EXPECT_EQ(Must(MakeArgs("XPENDING", stream, "g")).elements.at(0).integer, 0);
}

}  // namespace
}  // namespace joopang::redis
