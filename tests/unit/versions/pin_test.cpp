#include "versions/pin.hpp"

#include <gtest/gtest.h>

namespace engined::versions {
namespace {

TEST(Pin, ExactAndNewestMinorForms) {
    const auto exact = parse_pin("1.3");
    ASSERT_TRUE(exact.has_value());
    EXPECT_EQ(exact->major, 1);
    EXPECT_EQ(exact->minor, 3);
    const auto newest = parse_pin("12.x");
    ASSERT_TRUE(newest.has_value());
    EXPECT_EQ(newest->major, 12);
    EXPECT_FALSE(newest->minor.has_value());
    EXPECT_TRUE(parse_pin("0.0").has_value());
}

// One version has one spelling: leading zeros are refused; the value must fit an int.
TEST(Pin, NumbersUpToTheLargestIntWithoutLeadingZeros) {
    for (const char* padded : {"01.0", "1.00", "0000000001.0", "1.02", "00.x", "0.00", "007.x"}) {
        EXPECT_FALSE(parse_pin(padded).has_value()) << "'" << padded << "'";
    }
    for (const char* single : {"0.0", "10.0", "1.10", "0.x", "100.x"}) {
        EXPECT_TRUE(parse_pin(single).has_value()) << "'" << single << "'";
    }
    const auto largest = parse_pin("2147483647.2147483647");
    ASSERT_TRUE(largest.has_value());
    EXPECT_EQ(largest->major, 2147483647);
    EXPECT_EQ(largest->minor, 2147483647);
    EXPECT_FALSE(parse_pin("2147483648.1").has_value());
    EXPECT_FALSE(parse_pin("1.2147483648").has_value());
}

TEST(Pin, RejectsEverythingOutsideTheGrammar) {
    for (const char* bad : {"", "1", "1.", ".1", "1.0.0", "v1.2", "1.X", "x.1", "1.x.1", "1.-1",
                            "+1.2", " 1.2", "1.2 ", "1,2", "1.2a", "9999999999.1"}) {
        EXPECT_FALSE(parse_pin(bad).has_value()) << "'" << bad << "'";
    }
}

}  // namespace
}  // namespace engined::versions
