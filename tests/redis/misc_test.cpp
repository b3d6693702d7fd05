// URL parsing, script SHA-1 and stream reply parsing, with no server.
#include <gtest/gtest.h>

#include "infra/redis/call_support.hpp"
#include "infra/redis/coupon_codec.hpp"
#include "infra/redis/endpoint.hpp"
#include "infra/redis/redis_coupon_gate.hpp"
#include "infra/redis/redis_coupon_issue_queue.hpp"
#include "infra/redis/script.hpp"
#include "infra/redis/sha1.hpp"
#include "infra/redis/streams.hpp"

namespace joopang::redis {
namespace {

TEST(Endpoint, ParsesTcpUrls) {
    auto u = ParseRedisUrl("redis://127.0.0.1:6390");
    ASSERT_TRUE(u);
    EXPECT_FALSE(u->cluster);
    ASSERT_EQ(u->endpoints.size(), 1u);
    EXPECT_EQ(u->endpoints[0].Name(), "127.0.0.1:6390");
    EXPECT_EQ(u->endpoints[0].db, 0);

    u = ParseRedisUrl("redis://:p%40ss@localhost:7000/3");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->endpoints[0].host, "localhost");
    EXPECT_EQ(u->endpoints[0].port, 7000);
    EXPECT_EQ(u->endpoints[0].password, "p@ss");
    EXPECT_EQ(u->endpoints[0].username, "");
    EXPECT_EQ(u->endpoints[0].db, 3);

    u = ParseRedisUrl("redis://alice:pw@[::1]");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->endpoints[0].host, "::1");
    EXPECT_EQ(u->endpoints[0].port, 6379);
    EXPECT_EQ(u->endpoints[0].username, "alice");
    EXPECT_EQ(u->endpoints[0].Name(), "[::1]:6379");
}

TEST(Endpoint, ParsesUnixAndClusterUrls) {
    auto u = ParseRedisUrl("unix:///tmp/redis.sock?db=2&password=s%20cret");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->endpoints[0].kind, Endpoint::Kind::kUnix);
    EXPECT_EQ(u->endpoints[0].path, "/tmp/redis.sock");
    EXPECT_EQ(u->endpoints[0].db, 2);
    EXPECT_EQ(u->endpoints[0].password, "s cret");
    EXPECT_EQ(u->endpoints[0].Name(), "unix:/tmp/redis.sock");

    u = ParseRedisUrl("redis-cluster://:pw@h1:7000,h2:7001,h3");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->cluster);
    ASSERT_EQ(u->endpoints.size(), 3u);
    EXPECT_EQ(u->endpoints[1].Name(), "h2:7001");
    EXPECT_EQ(u->endpoints[2].Name(), "h3:6379");
    EXPECT_EQ(u->endpoints[2].password, "pw");
}

TEST(Endpoint, RejectsBadUrls) {
    for (const char* bad :
         {"127.0.0.1:6379", "http://h:1", "redis://", "redis://h:0", "redis://h:99999",
          "redis://h:x", "redis://h/abc", "unix://rel.sock", "unix:///s?db=x", "unix:///s?foo=1",
          "redis://a:1,b:2", "redis-cluster://a:1/2", "redis://:%zz@h"}) {
        auto u = ParseRedisUrl(bad);
        EXPECT_FALSE(u) << bad;
        if (!u) {
            EXPECT_EQ(u.error().code, ErrorCode::kValidationFailed);
        }
    }
    EXPECT_TRUE(ParseHostPort("10.0.0.1:7000"));
    EXPECT_FALSE(ParseHostPort("10.0.0.1"));
}

TEST(CallSupport, TransientErrorRepliesAreRetried) {
    for (const char* e :
         {"LOADING Redis is loading the dataset in memory", "BUSY Redis is busy running a script",
          "TRYAGAIN Multiple keys request", "CLUSTERDOWN The cluster is down",
          "MASTERDOWN Link with MASTER is down"}) {
        EXPECT_TRUE(IsTransient(Reply::Err(e))) << e;
    }
    EXPECT_FALSE(IsTransient(Reply::Err("ERR unknown command")));
    EXPECT_FALSE(IsTransient(Reply::Err("MOVED 1 h:1")));
    EXPECT_FALSE(IsTransient(Reply::Bulk("LOADING")));
}

TEST(CouponRequestIds, EncodeTheEntryAndTheWinsPlaceInIt) {
    EXPECT_EQ(coupon_codec::RequestIdOf("1732200000000-3", 7), 1732200000000003007);
    EXPECT_EQ(coupon_codec::RequestIdOf("1732200000000-0", 0), 1732200000000000000);
    EXPECT_EQ(coupon_codec::RequestIdOf("1732200000000-999", 999), 1732200000000999999);
    EXPECT_EQ(coupon_codec::EntryIdOf(1732200000000003007), "1732200000000-3");
    EXPECT_EQ(coupon_codec::EntryIdOf(1732200000000999999), "1732200000000-999");
    // What does not fit three digits, or is not an entry id, has no request id.
    EXPECT_EQ(coupon_codec::RequestIdOf("1732200000000-1000", 0), 0);
    EXPECT_EQ(coupon_codec::RequestIdOf("1732200000000-3", 1000), 0);
    EXPECT_EQ(coupon_codec::RequestIdOf("1732200000000-3", -1), 0);
    EXPECT_EQ(coupon_codec::RequestIdOf("1732200000000", 0), 0);
    EXPECT_EQ(coupon_codec::RequestIdOf("x-3", 0), 0);
    EXPECT_EQ(coupon_codec::RequestIdOf("99999999999999-3", 0), 0) << "past int64";
}

TEST(Sha1, KnownVectors) {
    EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(Sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    EXPECT_EQ(Sha1Hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    for (std::size_t n = 50; n < 70; ++n) EXPECT_EQ(Sha1Hex(std::string(n, 'x')).size(), 40u);
    // Redis names `return 1` by this SHA-1.
    EXPECT_EQ(Script("one", "return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(Streams, ParsesXReadGroupReply) {
    Reply reply = Reply::Array({Reply::Array(
        {Reply::Bulk("ev"),
         Reply::Array({Reply::Array({Reply::Bulk("1-0"),
                                     Reply::Array({Reply::Bulk("u"), Reply::Bulk("7")})}),
                       Reply::Array({Reply::Bulk("2-0"), Reply::Nil()})})})});
    auto read = ParseStreamRead(reply);
    ASSERT_TRUE(read);
    ASSERT_EQ(read->size(), 1u);
    EXPECT_EQ((*read)[0].stream, "ev");
    ASSERT_EQ((*read)[0].entries.size(), 2u);
    EXPECT_EQ((*read)[0].entries[0], (StreamEntry{"1-0", {{"u", "7"}}}));
    EXPECT_EQ((*read)[0].entries[1], (StreamEntry{"2-0", {}}));
    EXPECT_TRUE(ParseStreamRead(Reply::Nil())->empty());
    EXPECT_FALSE(ParseStreamRead(Reply::Integer(1)));
}

TEST(Streams, ParsesAutoClaimPendingAndInfo) {
    auto claim = ParseAutoClaim(Reply::Array(
        {Reply::Bulk("0-0"),
         Reply::Array({Reply::Array(
             {Reply::Bulk("3-0"), Reply::Array({Reply::Bulk("f"), Reply::Bulk("v")})})}),
         Reply::Array({Reply::Bulk("1-0")})}));
    ASSERT_TRUE(claim);
    EXPECT_EQ(claim->next_start, "0-0");
    ASSERT_EQ(claim->entries.size(), 1u);
    EXPECT_EQ(claim->deleted_ids, std::vector<std::string>{"1-0"});

    auto pending = ParsePendingSummary(
        Reply::Array({Reply::Integer(3), Reply::Bulk("1-0"), Reply::Bulk("3-0"),
                      Reply::Array({Reply::Array({Reply::Bulk("c1"), Reply::Bulk("3")})})}));
    ASSERT_TRUE(pending);
    EXPECT_EQ(pending->count, 3);
    EXPECT_EQ(pending->consumers.at(0), (std::pair<std::string, long long>{"c1", 3}));
    auto empty = ParsePendingSummary(
        Reply::Array({Reply::Integer(0), Reply::Nil(), Reply::Nil(), Reply::Nil()}));
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->count, 0);
    EXPECT_TRUE(empty->min_id.empty());

    auto info = ParseStreamInfo(Reply::Array(
        {Reply::Bulk("length"), Reply::Integer(2), Reply::Bulk("groups"), Reply::Integer(1),
         Reply::Bulk("last-generated-id"), Reply::Bulk("2-0"), Reply::Bulk("first-entry"),
         Reply::Array({Reply::Bulk("1-0"), Reply::Array({Reply::Bulk("a"), Reply::Bulk("b")})}),
         Reply::Bulk("last-entry"), Reply::Nil()}));
    ASSERT_TRUE(info);
    EXPECT_EQ(info->length, 2);
    EXPECT_EQ(info->last_generated_id, "2-0");
    ASSERT_TRUE(info->first_entry);
    EXPECT_EQ(info->first_entry->id, "1-0");
    EXPECT_FALSE(info->last_entry);

    auto groups = ParseGroupsInfo(Reply::Array({Reply::Array(
        {Reply::Bulk("name"), Reply::Bulk("g"), Reply::Bulk("consumers"), Reply::Integer(2),
         Reply::Bulk("pending"), Reply::Integer(5), Reply::Bulk("last-delivered-id"),
         Reply::Bulk("9-0"), Reply::Bulk("entries-read"), Reply::Integer(9), Reply::Bulk("lag"),
         Reply::Nil()})}));
    ASSERT_TRUE(groups);
    ASSERT_EQ(groups->size(), 1u);
    EXPECT_EQ((*groups)[0].name, "g");
    EXPECT_EQ((*groups)[0].pending, 5);
    EXPECT_EQ((*groups)[0].entries_read, 9);
    EXPECT_FALSE((*groups)[0].lag);
}

}  // namespace
}  // namespace joopang::redis
