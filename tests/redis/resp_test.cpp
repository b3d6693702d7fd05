// RESP encoding and parsing, with raw bytes and no socket.
#include <gtest/gtest.h>

#include "infra/redis/reply.hpp"
#include "infra/redis/resp_reader.hpp"
#include "infra/redis/resp_writer.hpp"

namespace joopang::redis {
namespace {

std::vector<Reply> ParseAll(std::string_view bytes, std::size_t chunk) {
    RespReader reader;
    std::vector<Reply> out;
    for (std::size_t i = 0; i < bytes.size(); i += chunk) {
        EXPECT_TRUE(reader.Feed(bytes.substr(i, chunk)));
        Reply r;
        while (reader.Pop(r) == RespReader::Next::kReply) out.push_back(std::move(r));
    }
    return out;
}

TEST(RespWriter, EncodesEveryArgumentAsBulkString) {
    Args args{"SET", "key with space", std::string("a\r\nb\0c", 6)};
    using namespace std::string_literals;
    EXPECT_EQ(EncodeCommand(args),
              "*3\r\n$3\r\nSET\r\n$14\r\nkey with space\r\n$6\r\na\r\nb\0c\r\n"s);
}

TEST(RespWriter, EncodesEmptyArgumentAndAppends) {
    std::string out = "x";
    AppendCommand(out, {"GET", ""});
    EXPECT_EQ(out, "x*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

TEST(RespReader, ParsesEveryType) {
    const std::string bytes =
        "+OK\r\n-WRONGTYPE Operation against a key\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$-1\r\n"
        "*-1\r\n*0\r\n$0\r\n\r\n";
    auto replies = ParseAll(bytes, bytes.size());
    ASSERT_EQ(replies.size(), 9u);
    EXPECT_EQ(replies[0], Reply::Status("OK"));
    EXPECT_EQ(replies[1], Reply::Err("WRONGTYPE Operation against a key"));
    EXPECT_EQ(replies[1].ErrorCode(), "WRONGTYPE");
    EXPECT_EQ(replies[2], Reply::Integer(42));
    EXPECT_EQ(replies[3], Reply::Integer(-7));
    EXPECT_EQ(replies[4], Reply::Bulk("hello"));
    EXPECT_TRUE(replies[5].IsNil());
    EXPECT_TRUE(replies[6].IsNil());
    EXPECT_EQ(replies[7], Reply::Array({}));
    EXPECT_EQ(replies[8], Reply::Bulk(""));
}

TEST(RespReader, ParsesNestedArrays) {
    // An XREADGROUP-shaped reply: [[stream, [[id, [f, v]]]]], plus a nil inside an array.
    const std::string bytes =
        "*2\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
        "*3\r\n:1\r\n$-1\r\n-ERR inner\r\n";
    auto replies = ParseAll(bytes, bytes.size());
    ASSERT_EQ(replies.size(), 1u);
    const Reply expected = Reply::Array(
        {Reply::Array(
             {Reply::Bulk("s"),
              Reply::Array({Reply::Array(
                  {Reply::Bulk("1-0"), Reply::Array({Reply::Bulk("f"), Reply::Bulk("v")})})})}),
         Reply::Array({Reply::Integer(1), Reply::Nil(), Reply::Err("ERR inner")})});
    EXPECT_EQ(replies[0], expected) << replies[0].ToString();
}

TEST(RespReader, SplitAtEveryByteBoundaryGivesTheSameReplies) {
    const std::string bytes =
        "+OK\r\n*3\r\n$3\r\nabc\r\n*2\r\n:1\r\n$-1\r\n-ERR x\r\n$10\r\n0123456789\r\n:5\r\n";
    const auto whole = ParseAll(bytes, bytes.size());
    ASSERT_EQ(whole.size(), 4u);
    for (std::size_t split = 1; split < bytes.size(); ++split) {
        RespReader reader;
        std::vector<Reply> got;
        Reply r;
        ASSERT_TRUE(reader.Feed(std::string_view(bytes).substr(0, split)));
        while (reader.Pop(r) == RespReader::Next::kReply) got.push_back(std::move(r));
        ASSERT_TRUE(reader.Feed(std::string_view(bytes).substr(split)));
        while (reader.Pop(r) == RespReader::Next::kReply) got.push_back(std::move(r));
        EXPECT_EQ(got, whole) << "split at " << split;
    }
    EXPECT_EQ(ParseAll(bytes, 1), whole);  // one byte at a time
}

TEST(RespReader, ReportsProtocolErrors) {
    RespReader reader;
    ASSERT_TRUE(reader.Feed("?garbage\r\n"));
    Reply r;
    EXPECT_EQ(reader.Pop(r), RespReader::Next::kProtocolError);
    EXPECT_FALSE(reader.ErrorMessage().empty());
}

TEST(RespReader, LargeBulkAcrossManyFeeds) {
    const std::string value(100000, 'x');
    const std::string bytes = "$100000\r\n" + value + "\r\n";
    auto replies = ParseAll(bytes, 777);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].str, value);
}

TEST(Reply, ToStringIsReadable) {
    Reply r =
        Reply::Array({Reply::Integer(1), Reply::Bulk("a"), Reply::Nil(), Reply::Err("ERR x")});
    EXPECT_EQ(r.ToString(), "[1, \"a\", nil, (error) ERR x]");
    EXPECT_TRUE(Reply::Err("NOSCRIPT No matching script").IsErrorCode("NOSCRIPT"));
    EXPECT_FALSE(Reply::Bulk("NOSCRIPT").IsErrorCode("NOSCRIPT"));
}

}  // namespace
}  // namespace joopang::redis

// A corrupt or hostile array header declares more elements than will ever come: the reader
// allocates as elements arrive, not for the declared count (a fuzzing finding: "*18888888" took
// 1.8 GB before any element was read).
TEST(RespReader, HugeDeclaredArrayAllocatesOnlyForElementsThatArrive) {
    joopang::redis::RespReader reader;
    ASSERT_TRUE(reader.Feed("*1000000000\r\n:1\r\n*3\r\n:2\r\n"));
    joopang::redis::Reply r;
    EXPECT_EQ(reader.Pop(r), joopang::redis::RespReader::Next::kIncomplete);
}
