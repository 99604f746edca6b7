// The reader is the check on /metrics, so it must itself refuse what a scraper refuses.
#include "prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace engined::testing {
namespace {

TEST(PrometheusText, ReadsFamiliesLabelsAndSpecialValues) {
    const Exposition parsed = parse_prometheus_text(
        "# a plain comment\n"
        "# HELP up Whether it is up\n"
        "# TYPE up gauge\n"
        "up{job=\"a\\\"b\",zone=\"x\"} 1\n"
        "up{job=\"c\"} NaN\n"
        "big 1e+21 1700000000000\n"
        "inf -Inf\n");
    EXPECT_EQ(parsed.families.at("up").type, "gauge");
    EXPECT_EQ(parsed.families.at("up").help, "Whether it is up");
    EXPECT_EQ(parsed.value("up", {{"job", "a\"b"}, {"zone", "x"}}), 1.0);
    EXPECT_TRUE(std::isnan(*parsed.value("up", {{"job", "c"}})));
    EXPECT_EQ(parsed.value("big"), 1e21);
    EXPECT_TRUE(std::isinf(*parsed.value("inf")));
    EXPECT_EQ(parsed.sum("up", {{"zone", "x"}}), 1.0);
}

TEST(PrometheusText, RefusesMalformedLines) {
    for (const char* bad : {
             "9lives 1\n",                         // metric name
             "x{1a=\"v\"} 1\n",                    // label name
             "x{a=v} 1\n",                         // unquoted value
             "x{a=\"v\\t\"} 1\n",                  // unknown escape
             "x{a=\"v\"} one\n",                   // value
             "x 1 2 3\n",                          // trailing text
             "x 1",                                // no final newline
             "# TYPE x countr\nx 1\n",             // type
             "x 1\n# TYPE x counter\n",            // TYPE after samples
             "# HELP x a\n# HELP x b\nx 1\n",      // HELP twice
             "x{a=\"1\"} 1\ny 1\nx{a=\"2\"} 1\n",  // family split
             "x 1\nx 2\n",                         // duplicate series
             "# TYPE c counter\nc -1\n",           // negative counter
         }) {
        EXPECT_THROW(parse_prometheus_text(bad), ExpositionError) << bad;
    }
}

TEST(PrometheusText, ChecksHistogramConsistency) {
    const std::string head = "# TYPE h histogram\n";
    EXPECT_NO_THROW(parse_prometheus_text(
        head + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"));
    EXPECT_THROW(parse_prometheus_text(
                     head + "h_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"),
                 ExpositionError);  // counts decrease
    EXPECT_THROW(parse_prometheus_text(head + "h_bucket{le=\"1\"} 1\nh_sum 3\nh_count 1\n"),
                 ExpositionError);  // no +Inf
    EXPECT_THROW(parse_prometheus_text(
                     head + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 3\n"),
                 ExpositionError);  // _count differs from +Inf
    EXPECT_THROW(parse_prometheus_text(
                     head + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
                            "h_sum 1\nh_count 1\n"),
                 ExpositionError);  // bounds out of order
    EXPECT_THROW(parse_prometheus_text(head + "h_bucket{le=\"+Inf\"} 1\nh_count 1\n"),
                 ExpositionError);  // no _sum
}

}  // namespace
}  // namespace engined::testing
