#include "common/time.hpp"

#include <gtest/gtest.h>

namespace engined {
namespace {

TEST(Rfc3339, FormatsEpochAndMilliseconds) {
    EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339_ms(1795444025123), "2026-11-23T14:27:05.123Z");
}

TEST(Rfc3339, PadsEveryFieldAndCountsBackBeforeTheEpoch) {
    EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(format_rfc3339_ms(-62135596800000), "0001-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339_ms(978404645009), "2001-01-02T03:04:05.009Z");
    EXPECT_EQ(format_rfc3339_ms(253402300799999), "9999-12-31T23:59:59.999Z");
}

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
    EXPECT_EQ(parse_rfc3339_ms("2026-11-23T14:27:05Z"), 1795444025000);
    EXPECT_EQ(parse_rfc3339_ms("2026-11-23T14:27:05.123Z"), 1795444025123);
    EXPECT_EQ(parse_rfc3339_ms("2026-11-23T16:27:05+02:00"), 1795444025000);
    EXPECT_EQ(parse_rfc3339_ms("2026-11-23T09:27:05-05:00"), 1795444025000);
}

TEST(Rfc3339, RoundTripsFormattedValues) {
    for (int64_t ms : {int64_t{0}, int64_t{951782400000}, int64_t{4102444799999}}) {
        EXPECT_EQ(parse_rfc3339_ms(format_rfc3339_ms(ms)), ms);
    }
}

TEST(Rfc3339, RejectsMalformedText) {
    for (const char* bad :
         {"", "2026-11-23", "2026-11-23 14:27:05Z", "2026-13-01T00:00:00Z", "2026-11-23T14:27:05",
          "2026-11-23T14:27:05.Z", "2026-11-23T14:27:05Zjunk"}) {
        EXPECT_FALSE(parse_rfc3339_ms(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace engined
