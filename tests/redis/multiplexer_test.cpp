// The sans-io multiplexer: fed bytes and events, it says what to write and who gets which reply.
#include "infra/redis/multiplexer.hpp"

#include <gtest/gtest.h>

#include <map>

#include "infra/redis/resp_writer.hpp"

namespace joopang::redis {
namespace {

using State = Multiplexer::State;
using Clock = Multiplexer::Clock;

std::string Cmd(std::initializer_list<std::string_view> args) {
    std::string out;
    AppendCommand(out, args);
    return out;
}

// Collects completions by id.
std::map<Multiplexer::RequestId, Result<std::vector<Reply>>> Drain(Multiplexer& mux) {
    std::map<Multiplexer::RequestId, Result<std::vector<Reply>>> out;
    for (auto& c : mux.TakeCompleted()) out.emplace(c.id, std::move(c.result));
    return out;
}

TEST(Multiplexer, CoalescesWaitingRequestsIntoOneWrite) {
    Multiplexer mux;
    EXPECT_FALSE(mux.HasWaiting());
    mux.Add(1, Cmd({"GET", "a"}), 1);
    mux.Add(2, Cmd({"GET", "b"}), 1);
    EXPECT_EQ(mux.StateOf(1), State::kWaiting);
    EXPECT_TRUE(mux.HasWaiting());
    EXPECT_EQ(mux.PrepareWrite(), Cmd({"GET", "a"}) + Cmd({"GET", "b"}));
    EXPECT_EQ(mux.StateOf(1), State::kWritten);
    EXPECT_EQ(mux.StateOf(2), State::kWritten);
    EXPECT_FALSE(mux.HasWaiting());

    // A request added while the first write is in flight goes in the next write.
    mux.Add(3, Cmd({"PING"}), 1);
    EXPECT_EQ(mux.PrepareWrite(), Cmd({"PING"}));

    ASSERT_TRUE(mux.Feed("$1\r\nA\r\n$-1\r\n+PONG\r\n"));
    auto done = Drain(mux);
    ASSERT_EQ(done.size(), 3u);
    EXPECT_EQ(done.at(1)->at(0), Reply::Bulk("A"));
    EXPECT_TRUE(done.at(2)->at(0).IsNil());
    EXPECT_EQ(done.at(3)->at(0), Reply::Status("PONG"));
    EXPECT_EQ(mux.StateOf(1), State::kDone);
    EXPECT_TRUE(mux.Idle());
}

TEST(Multiplexer, EncodesArgsStraightIntoTheWriteBuffer) {
    Multiplexer mux;
    const std::vector<Args> commands = {{"SET", "k", "v"}, {"GET", "k"}};
    mux.Add(1, std::span<const Args>(commands));
    EXPECT_EQ(mux.PrepareWrite(), Cmd({"SET", "k", "v"}) + Cmd({"GET", "k"}));
    ASSERT_TRUE(mux.Feed("+OK\r\n$1\r\nv\r\n"));
    auto done = Drain(mux);
    ASSERT_EQ(done.at(1)->size(), 2u);
    EXPECT_EQ(done.at(1)->at(1), Reply::Bulk("v"));
}

TEST(Multiplexer, ErrorReplyFailsOnlyItsOwnCommand) {
    Multiplexer mux;
    mux.Add(1, Cmd({"SET", "k", "v"}), 1);
    mux.Add(2, Cmd({"INCR", "k"}), 1);
    mux.Add(3, Cmd({"GET", "k"}), 1);
    mux.PrepareWrite();
    ASSERT_TRUE(mux.Feed("+OK\r\n-ERR value is not an integer\r\n$1\r\nv\r\n"));
    auto done = Drain(mux);
    EXPECT_EQ(done.at(1)->at(0), Reply::Status("OK"));
    ASSERT_TRUE(done.at(2).has_value());  // an error reply is a Reply, not an Error
    EXPECT_TRUE(done.at(2)->at(0).IsError());
    EXPECT_EQ(done.at(3)->at(0), Reply::Bulk("v"));
}

TEST(Multiplexer, BatchCompletesWhenAllItsRepliesArrived) {
    Multiplexer mux;
    mux.Add(7, Cmd({"INCR", "a"}) + Cmd({"INCR", "b"}) + Cmd({"GET", "c"}), 3);
    mux.Add(8, Cmd({"PING"}), 1);
    mux.PrepareWrite();
    ASSERT_TRUE(mux.Feed(":1\r\n:2\r\n"));
    EXPECT_TRUE(Drain(mux).empty());
    EXPECT_EQ(mux.StateOf(7), State::kWritten);
    ASSERT_TRUE(mux.Feed("$-1\r\n+PONG\r\n"));
    auto done = Drain(mux);
    ASSERT_EQ(done.at(7)->size(), 3u);
    EXPECT_EQ(done.at(7)->at(1), Reply::Integer(2));
    EXPECT_EQ(done.at(8)->at(0), Reply::Status("PONG"));
}

TEST(Multiplexer, RepliesSplitAtEveryByteBoundary) {
    const std::string replies =
        "*2\r\n*2\r\n$1\r\na\r\n:1\r\n$-1\r\n-ERR bad\r\n:12345\r\n$3\r\nxyz\r\n";
    for (std::size_t split = 0; split <= replies.size(); ++split) {
        Multiplexer mux;
        for (Multiplexer::RequestId id = 1; id <= 4; ++id) mux.Add(id, Cmd({"X"}), 1);
        mux.PrepareWrite();
        ASSERT_TRUE(mux.Feed(std::string_view(replies).substr(0, split)));
        auto first = Drain(mux);
        ASSERT_TRUE(mux.Feed(std::string_view(replies).substr(split)));
        auto second = Drain(mux);
        first.merge(second);
        ASSERT_EQ(first.size(), 4u) << "split " << split;
        EXPECT_EQ(
            first.at(1)->at(0),
            Reply::Array({Reply::Array({Reply::Bulk("a"), Reply::Integer(1)}), Reply::Nil()}));
        EXPECT_EQ(first.at(2)->at(0), Reply::Err("ERR bad"));
        EXPECT_EQ(first.at(3)->at(0), Reply::Integer(12345));
        EXPECT_EQ(first.at(4)->at(0), Reply::Bulk("xyz"));
    }
}

TEST(Multiplexer, CancellingAWaitingRequestRemovesItsBytes) {
    Multiplexer mux;
    mux.Add(1, Cmd({"GET", "a"}), 1);
    mux.Add(2, Cmd({"GET", "b"}), 1);
    mux.Add(3, Cmd({"GET", "c"}), 1);
    EXPECT_TRUE(mux.Cancel(2, Error::Unavailable("cancelled")));
    auto done = Drain(mux);
    ASSERT_FALSE(done.at(2).has_value());
    EXPECT_EQ(done.at(2).error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(mux.StateOf(2), State::kDone);
    EXPECT_EQ(mux.PrepareWrite(), Cmd({"GET", "a"}) + Cmd({"GET", "c"}));
    ASSERT_TRUE(mux.Feed("$1\r\nA\r\n$1\r\nC\r\n"));
    done = Drain(mux);
    EXPECT_EQ(done.at(1)->at(0), Reply::Bulk("A"));
    EXPECT_EQ(done.at(3)->at(0), Reply::Bulk("C"));
    EXPECT_FALSE(mux.Cancel(2, Error::Unavailable("again")));
}

TEST(Multiplexer, CancellingAWrittenRequestSwallowsItsReplyLater) {
    Multiplexer mux;
    mux.Add(1, Cmd({"GET", "a"}), 1);
    mux.Add(2, Cmd({"GET", "b"}), 1);
    mux.PrepareWrite();
    EXPECT_TRUE(mux.Cancel(1, Error::Unavailable("cancelled")));
    auto done = Drain(mux);
    EXPECT_FALSE(done.at(1).has_value());
    EXPECT_EQ(mux.LiveCount(), 1u);
    EXPECT_FALSE(mux.Idle());  // the tombstone still waits for its reply
    mux.Add(3, Cmd({"GET", "c"}), 1);
    mux.PrepareWrite();
    ASSERT_TRUE(mux.Feed("$1\r\nA\r\n$1\r\nB\r\n$1\r\nC\r\n"));
    done = Drain(mux);
    ASSERT_EQ(done.size(), 2u);  // nothing more for request 1
    EXPECT_EQ(done.at(2)->at(0), Reply::Bulk("B"));
    EXPECT_EQ(done.at(3)->at(0), Reply::Bulk("C"));
    EXPECT_TRUE(mux.Idle());
}

TEST(Multiplexer, InterleavedTimeoutsAndCancellationsKeepRepliesInSync) {
    Multiplexer mux;
    const auto t0 = Clock::now();
    // Ten requests, alternating short and long deadlines, some written, some still waiting.
    for (Multiplexer::RequestId id = 1; id <= 6; ++id) {
        mux.Add(id, Cmd({"ECHO", std::to_string(id)}), 1,
                t0 + std::chrono::milliseconds(id % 2 == 0 ? 10 : 1000));
    }
    mux.PrepareWrite();
    for (Multiplexer::RequestId id = 7; id <= 10; ++id) {
        mux.Add(id, Cmd({"ECHO", std::to_string(id)}), 1,
                t0 + std::chrono::milliseconds(id % 2 == 0 ? 10 : 1000));
    }
    EXPECT_TRUE(mux.Cancel(3, Error::Unavailable("cancelled")));  // written
    EXPECT_TRUE(mux.Cancel(9, Error::Unavailable("cancelled")));  // waiting
    EXPECT_EQ(mux.NextDeadline(), t0 + std::chrono::milliseconds(10));
    mux.Expire(t0 + std::chrono::milliseconds(20), Error::Unavailable("timed out"));
    auto done = Drain(mux);
    // 3, 9 cancelled; 2, 4, 6 (written) and 8, 10 (waiting) timed out.
    for (Multiplexer::RequestId id : {2, 3, 4, 6, 8, 9, 10}) {
        ASSERT_TRUE(done.count(id)) << id;
        EXPECT_FALSE(done.at(id).has_value()) << id;
    }
    EXPECT_EQ(done.at(2).error().message, "timed out");
    EXPECT_EQ(done.at(3).error().message, "cancelled");
    EXPECT_EQ(mux.PrepareWrite(), Cmd({"ECHO", "7"}));  // only the survivor of the second wave

    // The server answers all seven written requests in order; only 1, 5 and 7 are delivered.
    std::string replies;
    for (int id : {1, 2, 3, 4, 5, 6, 7}) {
        replies += "$1\r\n" + std::to_string(id) + "\r\n";
    }
    for (std::size_t i = 0; i < replies.size(); ++i) ASSERT_TRUE(mux.Feed(replies.substr(i, 1)));
    done = Drain(mux);
    ASSERT_EQ(done.size(), 3u);
    EXPECT_EQ(done.at(1)->at(0), Reply::Bulk("1"));
    EXPECT_EQ(done.at(5)->at(0), Reply::Bulk("5"));
    EXPECT_EQ(done.at(7)->at(0), Reply::Bulk("7"));
    EXPECT_TRUE(mux.Idle());
}

TEST(Multiplexer, ConnectionLossFailsEverythingAndResetsTheParser) {
    Multiplexer mux;
    mux.Add(1, Cmd({"GET", "a"}), 1);
    mux.PrepareWrite();
    mux.Add(2, Cmd({"GET", "b"}), 1);
    ASSERT_TRUE(mux.Feed("$5\r\nhal"));  // half a reply, then the connection drops
    mux.FailAll(Error::Unavailable("connection lost"));
    auto done = Drain(mux);
    ASSERT_EQ(done.size(), 2u);
    EXPECT_EQ(done.at(1).error().message, "connection lost");
    EXPECT_EQ(done.at(2).error().message, "connection lost");
    EXPECT_TRUE(mux.Idle());
    // A fresh connection starts from a clean parser.
    mux.Add(3, Cmd({"GET", "c"}), 1);
    EXPECT_EQ(mux.PrepareWrite(), Cmd({"GET", "c"}));
    ASSERT_TRUE(mux.Feed("$1\r\nC\r\n"));
    EXPECT_EQ(Drain(mux).at(3)->at(0), Reply::Bulk("C"));
}

TEST(Multiplexer, UnsolicitedReplyOrGarbageIsAProtocolError) {
    Multiplexer mux;
    EXPECT_FALSE(mux.Feed("+OK\r\n"));
    Multiplexer mux2;
    mux2.Add(1, Cmd({"PING"}), 1);
    mux2.PrepareWrite();
    EXPECT_FALSE(mux2.Feed("!!\r\n"));
}

TEST(Multiplexer, WriteBufferStaysValidWhileNewRequestsArrive) {
    Multiplexer mux;
    mux.Add(1, Cmd({"SET", "k", std::string(1000, 'v')}), 1);
    std::string_view first = mux.PrepareWrite();
    const std::string copy(first);
    for (Multiplexer::RequestId id = 2; id < 100; ++id) mux.Add(id, Cmd({"PING"}), 1);
    mux.Cancel(50, Error::Unavailable("x"));
    mux.Expire(Clock::now(), Error::Unavailable("y"));  // nothing expires: no deadlines
    EXPECT_EQ(first, copy);
    EXPECT_EQ(mux.LiveCount(), 98u);
}

}  // namespace
}  // namespace joopang::redis
