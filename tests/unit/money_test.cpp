#include "common/money.hpp"

#include <gtest/gtest.h>

using joopang::Money;

TEST(Money, ParsesWholeAndFractionalAmounts) {
    EXPECT_EQ(Money::Parse("12500")->cents(), 1250000);
    EXPECT_EQ(Money::Parse("12500.5")->cents(), 1250050);
    EXPECT_EQ(Money::Parse("0.07")->cents(), 7);
    EXPECT_EQ(Money::Parse("-3.05")->cents(), -305);
}

TEST(Money, RejectsMalformedText) {
    for (const char* bad :
         {"", "-", ".", "1.", ".5", "1.234", "1e3", "+1", "1,00", " 1", "abc", "1.2.3", "0x10"})
        EXPECT_FALSE(Money::Parse(bad).has_value()) << bad;
}

TEST(Money, RejectsAmountsAboveTheMaximum) {
    EXPECT_FALSE(Money::Parse("99999999999999999999").has_value());
    EXPECT_FALSE(Money::Parse("10000000000000.01").has_value());
    EXPECT_TRUE(Money::Parse("10000000000000").has_value());
}

TEST(Money, FormatsWithTwoDecimals) {
    EXPECT_EQ(Money::FromCents(1250000).ToString(), "12500.00");
    EXPECT_EQ(Money::FromCents(5).ToString(), "0.05");
    EXPECT_EQ(Money::FromCents(-305).ToString(), "-3.05");
    EXPECT_EQ(Money().ToString(), "0.00");
}

TEST(Money, TimesDetectsOverflow) {
    EXPECT_EQ(Money::FromCents(250).Times(4)->cents(), 1000);
    EXPECT_FALSE(Money::FromCents(Money::kMaxCents).Times(2).has_value());
    EXPECT_FALSE(Money::FromCents(INT64_MAX / 2).Times(3).has_value());
}
