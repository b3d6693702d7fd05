#include "main/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <string>

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

TEST(Config, ReadsTheFileJoopangConfigNamesAndItWinsOverTheEnvironment) {
    const std::string path = ::testing::TempDir() + "joopang-config-test.toml";
    {
        std::FILE* f = std::fopen(path.c_str(), "w");
        ASSERT_NE(f, nullptr);
        std::fputs("order-ttl = \"7s\"\nthreads = 5\n", f);
        std::fclose(f);
    }
    setenv("JOOPANG_CONFIG", path.c_str(), 1);
    setenv("JOOPANG_ORDER_TTL", "2s", 1);
    const char* argv[] = {"joopang", "serve", "--threads", "3"};
    Config c;
    EXPECT_EQ(ParseConfig(4, const_cast<char**>(argv), c), -1);
    EXPECT_EQ(c.order_ttl.count(), 7000);  // the file, not the environment
    EXPECT_EQ(c.threads, 3);               // the flag, not the file
    // A file that JOOPANG_CONFIG names but that is missing is an error, not silence.
    setenv("JOOPANG_CONFIG", (path + ".missing").c_str(), 1);
    Config d;
    EXPECT_NE(ParseConfig(4, const_cast<char**>(argv), d), -1);
    unsetenv("JOOPANG_CONFIG");
    unsetenv("JOOPANG_ORDER_TTL");
    std::remove(path.c_str());
}

TEST(Config, RejectsBadValues) {
    const char* argv[] = {"joopang", "serve", "--order-ttl", "soon"};
    Config c;
    EXPECT_NE(ParseConfig(4, const_cast<char**>(argv), c), -1);
}

TEST(Config, RefusesARankingHalfLifeShorterThanAMinute) {
    const char* too_short[] = {"joopang", "serve", "--ranking-half-life", "30s"};
    Config c;
    EXPECT_NE(ParseConfig(4, const_cast<char**>(too_short), c), -1);
    const char* minute[] = {"joopang", "serve", "--ranking-half-life", "1m"};
    Config d;
    EXPECT_EQ(ParseConfig(4, const_cast<char**>(minute), d), -1);
    EXPECT_EQ(d.ranking_half_life.count(), 60'000);
}

/// `flag` defaults to `expected_default`, takes `good`, and refuses every one of `bad`.
void ExpectIntOption(const char* flag,
                     int Config::*field,
                     int expected_default,
                     const char* good,
                     int good_value,
                     std::initializer_list<const char*> bad) {
    {
        const char* argv[] = {"joopang", "serve"};
        Config c;
        EXPECT_EQ(ParseConfig(2, const_cast<char**>(argv), c), -1);
        EXPECT_EQ(c.*field, expected_default) << flag;
    }
    {
        const char* argv[] = {"joopang", "serve", flag, good};
        Config c;
        EXPECT_EQ(ParseConfig(4, const_cast<char**>(argv), c), -1) << flag;
        EXPECT_EQ(c.*field, good_value) << flag;
    }
    for (const char* b : bad) {
        const char* argv[] = {"joopang", "serve", flag, b};
        Config c;
        EXPECT_NE(ParseConfig(4, const_cast<char**>(argv), c), -1) << flag << " " << b;
    }
}

TEST(Config, IssueInFlightDefaultsToTwoAndStaysWithinOneTo64) {
    ExpectIntOption("--issue-in-flight", &Config::issue_in_flight, 2, "64", 64,
                    {"0", "65", "-1", "two"});
}

TEST(Config, IssueBatchDefaultsTo128AndStaysWithinOneTo1000) {
    ExpectIntOption("--issue-batch", &Config::issue_batch, 128, "1000", 1000,
                    {"0", "1001", "-3", "many"});
}

TEST(Config, SoldOutMemoDefaultsTo50msAndCanBeTurnedOff) {
    {
        const char* argv[] = {"joopang", "serve"};
        Config c;
        EXPECT_EQ(ParseConfig(2, const_cast<char**>(argv), c), -1);
        EXPECT_EQ(c.sold_out_memo.count(), 50);
    }
    for (auto [value, ms] : {std::pair{"0", 0}, std::pair{"200ms", 200}, std::pair{"1s", 1000}}) {
        const char* argv[] = {"joopang", "serve", "--sold-out-memo", value};
        Config c;
        EXPECT_EQ(ParseConfig(4, const_cast<char**>(argv), c), -1) << value;
        EXPECT_EQ(c.sold_out_memo.count(), ms) << value;
    }
    const char* argv[] = {"joopang", "serve", "--sold-out-memo", "-5ms"};
    Config c;
    EXPECT_NE(ParseConfig(4, const_cast<char**>(argv), c), -1);
}

TEST(Config, OnlyThePersisterLetsFinishedStreamsGoQuiet) {
    const char* argv[] = {"joopang", "serve"};
    Config c;
    ASSERT_EQ(ParseConfig(2, const_cast<char**>(argv), c), -1);
    const Settings s = BuildSettings(c);
    EXPECT_GT(s.persister.quiet_after.count(), 0);  // coupon drops pile up
    EXPECT_EQ(s.ranking_updater.quiet_after.count(), 0) << "a payment must rank within 2 s";
}
