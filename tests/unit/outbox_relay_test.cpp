// The outbox relay with in-memory ports: events reach the log in order, are marked sent only
// after they were appended, and a failure on either side sends them again (at least once).
#include "app/outbox_relay.hpp"

#include <gtest/gtest.h>

#include "async_test_support.hpp"

namespace joopang {
namespace {
namespace asio = boost::asio;

class FakeOutbox final : public OutboxRepository {
  public:
    std::vector<OutboxEvent> rows;
    std::vector<bool> sent;
    bool fail_mark = false;

    void Add(int n) {
        for (int i = 0; i < n; ++i) {
            rows.push_back({static_cast<std::int64_t>(rows.size() + 1), "order-paid", 7, "{}", 0});
            sent.push_back(false);
        }
    }
    Result<std::vector<OutboxEvent>> FetchUnsent(int limit) override {
        std::vector<OutboxEvent> out;
        for (std::size_t i = 0; i < rows.size() && static_cast<int>(out.size()) < limit; ++i)
            if (!sent[i]) out.push_back(rows[i]);
        return out;
    }
    Status MarkSent(const std::vector<std::int64_t>& ids, EpochMs) override {
        if (fail_mark) return Error::Unavailable("database down");
        for (auto id : ids) sent[static_cast<std::size_t>(id - 1)] = true;
        return {};
    }
};

class FakeLog final : public EventLog {
  public:
    std::vector<std::int64_t> appended;
    bool fail = false;
    asio::awaitable<Status> Append(const std::vector<OutboxEvent>& events) override {
        if (fail) co_return Error::Unavailable("redis down");
        for (const auto& e : events) appended.push_back(e.id);
        co_return Status{};
    }
};

class OutboxRelayTest : public testing::Test {
  protected:
    Result<std::int64_t> Drain() { return test_support::RunToEnd(relay.Drain()); }

    FakeOutbox outbox;
    FakeLog log;
    BlockingPool pool{1};
    OutboxRelay relay{outbox, log, pool, /*batch=*/4};
};

TEST_F(OutboxRelayTest, RelaysEverythingInOrderInBatches) {
    outbox.Add(10);
    auto r = Drain();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 10);
    EXPECT_EQ(log.appended, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    for (bool s : outbox.sent) EXPECT_TRUE(s);
    EXPECT_EQ(*Drain(), 0);  // nothing left
}

TEST_F(OutboxRelayTest, NothingIsMarkedSentThatWasNotAppended) {
    outbox.Add(3);
    log.fail = true;
    EXPECT_FALSE(Drain());
    for (bool s : outbox.sent) EXPECT_FALSE(s);
    log.fail = false;
    EXPECT_EQ(*Drain(), 3);
    EXPECT_EQ(log.appended, (std::vector<std::int64_t>{1, 2, 3}));
}

TEST_F(OutboxRelayTest, ACrashBeforeMarkingSendsTheBatchAgain) {
    outbox.Add(3);
    outbox.fail_mark = true;
    EXPECT_FALSE(Drain());
    outbox.fail_mark = false;
    EXPECT_EQ(*Drain(), 3);
    // At least once: the consumers see events 1..3 twice and apply each outbox id once.
    EXPECT_EQ(log.appended, (std::vector<std::int64_t>{1, 2, 3, 1, 2, 3}));
}

}  // namespace
}  // namespace joopang
