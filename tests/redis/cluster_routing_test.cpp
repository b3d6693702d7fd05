// Slot hashing, key extraction, CLUSTER SLOTS and redirect parsing, with no server.
#include <gtest/gtest.h>

#include "infra/redis/cluster_slots.hpp"
#include "infra/redis/command_keys.hpp"
#include "infra/redis/crc16.hpp"

namespace joopang::redis {
namespace {

TEST(Crc16, MatchesTheReferenceVector) {
    EXPECT_EQ(Crc16("123456789"), 0x31C3);
    EXPECT_EQ(Crc16(""), 0);
}

TEST(KeySlot, KnownSlotsAndHashTags) {
    EXPECT_EQ(KeySlot("foo"), 12182);
    EXPECT_EQ(KeySlot("bar"), 5061);
    EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("{user1000}.followers"));
    EXPECT_EQ(KeySlot("coupon:{42}:stock"), KeySlot("42"));
    EXPECT_EQ(HashTag("foo{}{bar}"), "foo{}{bar}");  // empty first tag: whole key
    EXPECT_EQ(HashTag("foo{{bar}}zap"), "{bar");
    EXPECT_EQ(HashTag("foo{bar}{zap}"), "bar");
    EXPECT_EQ(HashTag("no-close{tag"), "no-close{tag");
}

TEST(CommandKeys, FindsKeysOfCommonCommands) {
    using V = std::vector<std::size_t>;
    EXPECT_EQ(KeyIndices(Args{"GET", "k"}), V{1});
    EXPECT_EQ(KeyIndices(Args{"set", "k", "v"}), V{1});
    EXPECT_EQ(KeyIndices(Args{"PING"}), V{});
    EXPECT_EQ(KeyIndices(Args{"SCRIPT", "LOAD", "return 1"}), V{});
    EXPECT_EQ(KeyIndices(Args{"MGET", "a", "b", "c"}), (V{1, 2, 3}));
    EXPECT_EQ(KeyIndices(Args{"MSET", "a", "1", "b", "2"}), (V{1, 3}));
    EXPECT_EQ(KeyIndices(Args{"EVALSHA", "sha", "2", "k1", "k2", "arg"}), (V{3, 4}));
    EXPECT_EQ(KeyIndices(Args{"EVAL", "return 1", "0", "arg"}), V{});
    EXPECT_EQ(KeyIndices(Args{"XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "s1", "s2",
                              ">", ">"}),
              (V{7, 8}));
    EXPECT_EQ(KeyIndices(Args{"XINFO", "STREAM", "s"}), V{2});
    EXPECT_EQ(KeyIndices(Args{"BLPOP", "a", "b", "0"}), (V{1, 2}));
    EXPECT_EQ(KeyIndices(Args{"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}),
              (V{1, 3, 4}));
    EXPECT_EQ(KeyIndices(Args{"RENAME", "a", "b"}), (V{1, 2}));
}

TEST(CommandKeys, SlotOfCommand) {
    auto s = SlotOfCommand(Args{"GET", "foo"});
    EXPECT_EQ(s.kind, CommandSlot::Kind::kSlot);
    EXPECT_EQ(s.slot, 12182);
    EXPECT_EQ(SlotOfCommand(Args{"PING"}).kind, CommandSlot::Kind::kNoKey);
    EXPECT_EQ(SlotOfCommand(Args{"MGET", "foo", "bar"}).kind, CommandSlot::Kind::kCrossSlot);
    s = SlotOfCommand(Args{"MGET", "{t}foo", "{t}bar"});
    EXPECT_EQ(s.kind, CommandSlot::Kind::kSlot);
    EXPECT_EQ(s.slot, KeySlot("t"));
}

TEST(ClusterSlots, ParsesClusterSlotsReply) {
    // Two ranges; the second node announces no host (use the queried node's).
    Reply reply = Reply::Array({
        Reply::Array(
            {Reply::Integer(0), Reply::Integer(8191),
             Reply::Array({Reply::Bulk("10.0.0.1"), Reply::Integer(7000), Reply::Bulk("id1")}),
             Reply::Array({Reply::Bulk("10.0.0.9"), Reply::Integer(7009), Reply::Bulk("r1")})}),
        Reply::Array({Reply::Integer(8192), Reply::Integer(16383),
                      Reply::Array({Reply::Bulk(""), Reply::Integer(7001), Reply::Bulk("id2")})}),
    });
    Endpoint queried;
    queried.host = "10.0.0.5";
    queried.port = 7005;
    queried.password = "pw";
    auto ranges = ParseClusterSlots(reply, queried);
    ASSERT_TRUE(ranges) << ranges.error().message;
    ASSERT_EQ(ranges->size(), 2u);
    EXPECT_EQ((*ranges)[0].master.Name(), "10.0.0.1:7000");
    EXPECT_EQ((*ranges)[0].master.password, "pw");
    EXPECT_EQ((*ranges)[1].master.Name(), "10.0.0.5:7001");

    SlotMap map;
    EXPECT_TRUE(map.Empty());
    map.Assign(*ranges);
    EXPECT_EQ(map.Owner(0)->Name(), "10.0.0.1:7000");
    EXPECT_EQ(map.Owner(8191)->Name(), "10.0.0.1:7000");
    EXPECT_EQ(map.Owner(8192)->Name(), "10.0.0.5:7001");
    EXPECT_EQ(map.ServingNodes().size(), 2u);

    Endpoint moved;
    moved.host = "10.0.0.7";
    moved.port = 7007;
    map.SetOwner(100, moved);
    EXPECT_EQ(map.Owner(100)->Name(), "10.0.0.7:7007");
    EXPECT_EQ(map.Owner(101)->Name(), "10.0.0.1:7000");
    EXPECT_EQ(map.ServingNodes().size(), 3u);

    EXPECT_FALSE(ParseClusterSlots(Reply::Integer(3), queried));
}

TEST(ClusterSlots, ParsesRedirects) {
    Endpoint from;
    from.host = "127.0.0.1";
    from.password = "secret";
    auto moved = ParseRedirect(Reply::Err("MOVED 3999 127.0.0.1:6381"), from);
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->kind, Redirect::Kind::kMoved);
    EXPECT_EQ(moved->slot, 3999);
    EXPECT_EQ(moved->target.Name(), "127.0.0.1:6381");
    EXPECT_EQ(moved->target.password, "secret");
    auto ask = ParseRedirect(Reply::Err("ASK 12 10.1.2.3:7000"), from);
    ASSERT_TRUE(ask);
    EXPECT_EQ(ask->kind, Redirect::Kind::kAsk);
    EXPECT_EQ(ask->target.Name(), "10.1.2.3:7000");
    auto bare = ParseRedirect(Reply::Err("MOVED 5 :7001"), from);
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->target.Name(), "127.0.0.1:7001");
    EXPECT_FALSE(ParseRedirect(Reply::Err("ERR MOVED"), from));
    EXPECT_FALSE(ParseRedirect(Reply::Bulk("MOVED 1 a:1"), from));
}

}  // namespace
}  // namespace joopang::redis
