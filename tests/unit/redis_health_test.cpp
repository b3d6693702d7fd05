// Redis health from INFO: the fields operators watch, including each replica's offset and lag,
// parsed from the text Redis 7 answers.
#include "infra/redis/redis_health.hpp"

#include <gtest/gtest.h>

namespace joopang::redis {
namespace {

constexpr const char* kInfo =
    "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n\r\n"
    "# Persistence\r\naof_enabled:1\r\naof_last_write_status:err\r\n"
    "aof_pending_bio_fsync:2\r\naof_delayed_fsync:7\r\n\r\n"
    "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n"
    "slave0:ip=10.0.0.2,port=6380,state=online,offset=5000,lag=0\r\n"
    "slave1:ip=10.0.0.3,port=6381,state=wait_bgsave,offset=4200,lag=3\r\n"
    "master_repl_offset:5100\r\n";

TEST(RedisHealthTest, InfoFieldsBecomeTheHealthOperatorsWatch) {
    auto info = ParseInfo(kInfo);
    EXPECT_EQ(info["used_memory_human"], "1.00M");
    EXPECT_EQ(info.count("# Memory"), 0u);
    auto h = HealthFromInfo(info, 12);
    EXPECT_EQ(h.used_memory_bytes, 1048576);
    EXPECT_TRUE(h.aof_enabled);
    EXPECT_FALSE(h.aof_last_write_ok);
    EXPECT_EQ(h.aof_pending_fsync, 2);
    EXPECT_EQ(h.aof_delayed_fsync, 7);
    EXPECT_EQ(h.role, "master");
    EXPECT_EQ(h.replication_offset, 5100);
    ASSERT_EQ(h.replicas.size(), 2u);
    EXPECT_EQ(h.replicas[0].address, "10.0.0.2:6380");
    EXPECT_EQ(h.replicas[0].state, "online");
    EXPECT_EQ(h.replicas[0].offset, 5000);
    EXPECT_EQ(h.replicas[1].lag_seconds, 3);
    EXPECT_EQ(h.slowlog_length, 12);
}

TEST(RedisHealthTest, ANodeWithoutAofOrReplicasReadsAsSuch) {
    auto h = HealthFromInfo(ParseInfo("used_memory:10\nrole:master\nconnected_slaves:0\n"), 0);
    EXPECT_EQ(h.used_memory_bytes, 10);
    EXPECT_FALSE(h.aof_enabled);
    EXPECT_TRUE(h.aof_last_write_ok);
    EXPECT_TRUE(h.replicas.empty());
}

}  // namespace
}  // namespace joopang::redis
