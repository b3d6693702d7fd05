#include "main/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

using namespace joopang;

TEST(Config, ParsesDurationsWithUnits) {
    std::chrono::milliseconds d{};
    ASSERT_TRUE(ParseDuration("500ms", d));
    EXPECT_EQ(d.count(), 500);
    ASSERT_TRUE(ParseDuration("2s", d));
    EXPECT_EQ(d.count(), 2000);
    ASSERT_TRUE(ParseDuration("15m", d));
    EXPECT_EQ(d.count(), 900000);
    ASSERT_TRUE(ParseDuration("3", d));
    EXPECT_EQ(d.count(), 3000);
    EXPECT_FALSE(ParseDuration("", d));
    EXPECT_FALSE(ParseDuration("5x", d));
    EXPECT_FALSE(ParseDuration("-1s", d));
}

TEST(Config, FlagsOverrideDefaultsAndEnvironmentFillsTheRest) {
    setenv("JOOPANG_ORDER_TTL", "2s", 1);
    setenv("JOOPANG_LISTEN", "127.0.0.1:9999", 1);
    const char* argv[] = {"joopang", "serve", "--listen", "127.0.0.1:1234", "--threads", "3"};
    Config c;
    EXPECT_EQ(ParseConfig(6, const_cast<char**>(argv), c), -1);
    EXPECT_EQ(c.command, "serve");
    EXPECT_EQ(c.listen, "127.0.0.1:1234");
    EXPECT_EQ(c.threads, 3);
    EXPECT_EQ(c.order_ttl.count(), 2000);
    unsetenv("JOOPANG_ORDER_TTL");
    unsetenv("JOOPANG_LISTEN");
}

TEST(Config, RejectsBadValues) {
    const char* argv[] = {"joopang", "serve", "--order-ttl", "soon"};
    Config c;
    EXPECT_NE(ParseConfig(4, const_cast<char**>(argv), c), -1);
}

TEST(Config, IssueInFlightDefaultsToTwoAndStaysWithinOneTo64) {
    {
        const char* argv[] = {"joopang", "serve"};
        Config c;
        EXPECT_EQ(ParseConfig(2, const_cast<char**>(argv), c), -1);
        EXPECT_EQ(c.issue_in_flight, 2);
    }
    {
        const char* argv[] = {"joopang", "serve", "--issue-in-flight", "64"};
        Config c;
        EXPECT_EQ(ParseConfig(4, const_cast<char**>(argv), c), -1);
        EXPECT_EQ(c.issue_in_flight, 64);
    }
    for (const char* bad : {"0", "65", "-1", "two"}) {
        const char* argv[] = {"joopang", "serve", "--issue-in-flight", bad};
        Config c;
        EXPECT_NE(ParseConfig(4, const_cast<char**>(argv), c), -1) << bad;
    }
}

TEST(Config, IssueBatchDefaultsTo128AndStaysWithinOneTo1024) {
    {
        const char* argv[] = {"joopang", "serve"};
        Config c;
        EXPECT_EQ(ParseConfig(2, const_cast<char**>(argv), c), -1);
        EXPECT_EQ(c.issue_batch, 128);
    }
    {
        const char* argv[] = {"joopang", "serve", "--issue-batch", "1"};
        Config c;
        EXPECT_EQ(ParseConfig(4, const_cast<char**>(argv), c), -1);
        EXPECT_EQ(c.issue_batch, 1);
    }
    for (const char* bad : {"0", "1025", "-3", "many"}) {
        const char* argv[] = {"joopang", "serve", "--issue-batch", bad};
        Config c;
        EXPECT_NE(ParseConfig(4, const_cast<char**>(argv), c), -1) << bad;
    }
}
