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

// The grammar allows leading zeros; only the value must fit an int.
TEST(Pin, NumbersUpToTheLargestIntWithLeadingZeros) {
    const auto padded = parse_pin("0000000001.02");
    ASSERT_TRUE(padded.has_value());
    EXPECT_EQ(padded->major, 1);
    EXPECT_EQ(padded->minor, 2);
    const auto largest = parse_pin("2147483647.2147483647");
    ASSERT_TRUE(largest.has_value());
    EXPECT_EQ(largest->major, 2147483647);
    EXPECT_EQ(largest->minor, 2147483647);
    EXPECT_FALSE(parse_pin("2147483648.1").has_value());
    EXPECT_FALSE(parse_pin("1.2147483648").has_value());
    EXPECT_FALSE(parse_pin("00000000002147483648.x").has_value());
}

TEST(Pin, RejectsEverythingOutsideTheGrammar) {
    for (const char* bad : {"", "1", "1.", ".1", "1.0.0", "v1.2", "1.X", "x.1", "1.x.1", "1.-1", "+1.2", " 1.2",
                            "1.2 ", "1,2", "1.2a", "9999999999.1"}) {
        EXPECT_FALSE(parse_pin(bad).has_value()) << "'" << bad << "'";
    }
}

}  // namespace
}  // namespace engined::versions
