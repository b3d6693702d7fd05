#include "common/clock.hpp"

#include <gtest/gtest.h>

using namespace joopang;

TEST(Clock, FormatsRfc3339InUtcWithMilliseconds) {
    EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(FormatRfc3339(1795280645123), "2026-11-21T17:04:05.123Z");
}

TEST(Clock, ParsesWhatItFormatsAndOffsets) {
    EXPECT_EQ(ParseRfc3339("2026-11-21T17:04:05.123Z"), 1795280645123);
    EXPECT_EQ(ParseRfc3339("2026-11-21T18:04:05.123+01:00"), 1795280645123);
    EXPECT_EQ(ParseRfc3339("2026-11-21T17:04:05Z"), 1795280645000);
}

TEST(Clock, RejectsMalformedTimes) {
    for (const char* bad :
         {"", "2026-11-21", "2026-13-01T00:00:00Z", "2026-11-21T17:04:05", "2026-11-21T17:04:05.Z",
          "2026-11-21T25:00:00Z", "x026-11-21T00:00:00Z"})
        EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
}
