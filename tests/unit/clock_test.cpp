#include "common/clock.hpp"

#include <gtest/gtest.h>

using namespace joopang;

TEST(Clock, Rfc3339OfTheSameOrAnotherSecondIsRightWhateverWasFormattedBefore) {
    // AppendRfc3339 keeps the last second it formatted: each call must still give the text of
    // its own instant, within that second, across a boundary, going back, and before 1970.
    EXPECT_EQ(FormatRfc3339(1795280645123), "2026-11-21T17:04:05.123Z");
    EXPECT_EQ(FormatRfc3339(1795280645999), "2026-11-21T17:04:05.999Z");
    EXPECT_EQ(FormatRfc3339(1795280646000), "2026-11-21T17:04:06.000Z");
    EXPECT_EQ(FormatRfc3339(1795280645007), "2026-11-21T17:04:05.007Z");
    EXPECT_EQ(FormatRfc3339(1795280705007), "2026-11-21T17:05:05.007Z");
    EXPECT_EQ(FormatRfc3339(1795284245007), "2026-11-21T18:04:05.007Z");
    EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(FormatRfc3339(999), "1970-01-01T00:00:00.999Z");
    EXPECT_EQ(FormatRfc3339(1000), "1970-01-01T00:00:01.000Z");
}

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
