#include "metrics/registry.hpp"

#include "prometheus_text.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace engined::metrics {
namespace {

using testing::parse_prometheus_text;

TEST(MetricsRegistry, RendersHelpAndTypeOncePerFamilyAndEverySeries) {
    Registry registry;
    registry.counter("jobs_total", "Jobs done", {{"kind", "a"}}).inc(2);
    registry.counter("jobs_total", "Jobs done", {{"kind", "b"}}).inc();
    registry.gauge("temperature", "Degrees").set(-1.5);
    EXPECT_EQ(registry.render(),
              "# HELP jobs_total Jobs done\n"
              "# TYPE jobs_total counter\n"
              "jobs_total{kind=\"a\"} 2\n"
              "jobs_total{kind=\"b\"} 1\n"
              "# HELP temperature Degrees\n"
              "# TYPE temperature gauge\n"
              "temperature -1.5\n");
}

TEST(MetricsRegistry, AFamilyHoldsAtMostItsLimitOfLabelSetsAndFoldsTheRestIntoOneOverflowSeries) {
    Registry registry(3);
    for (const char* route : {"a", "b", "c"})
        registry.counter("hits_total", "Hits", {{"route", route}}).inc();
    // At the limit, known label sets keep their own series; new ones share the overflow series.
    registry.counter("hits_total", "Hits", {{"route", "a"}}).inc();
    Counter& overflow = registry.counter("hits_total", "Hits", {{"route", "d"}});
    overflow.inc();
    EXPECT_EQ(&registry.counter("hits_total", "Hits", {{"route", "e"}}), &overflow);
    registry.counter("hits_total", "Hits", {{"route", "e"}}).inc(2);
    registry.histogram("wait_seconds", "Waits", {1}, {{"route", "x"}})
        .observe(0.5);  // another family: its own room
    const auto exposition = parse_prometheus_text(registry.render());
    EXPECT_EQ(exposition.value("hits_total", {{"route", "a"}}), 2.0);
    EXPECT_EQ(exposition.value("hits_total", {{"route", "c"}}), 1.0);
    EXPECT_EQ(exposition.value("hits_total", {{"route", "overflow"}}), 3.0);
    EXPECT_FALSE(exposition.value("hits_total", {{"route", "d"}}));
    EXPECT_EQ(exposition.families.at("hits_total").samples.size(), 4u);
    EXPECT_EQ(exposition.value("wait_seconds_count", {{"route", "x"}}), 1.0);
}

TEST(MetricsRegistry, SameNameAndLabelsIsTheSameSeries) {
    Registry registry;
    Counter& first = registry.counter("hits_total", "Hits", {{"route", "/x"}});
    Counter& again = registry.counter("hits_total", "Hits", {{"route", "/x"}});
    Counter& other = registry.counter("hits_total", "Hits", {{"route", "/y"}});
    EXPECT_EQ(&first, &again);
    EXPECT_NE(&first, &other);
    Histogram& h1 = registry.histogram("size", "Size", {1, 2});
    EXPECT_EQ(&h1, &registry.histogram("size", "Size", {1, 2}));
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
    Registry registry;
    registry.counter("odd_total", "Line one\nback\\slash", {{"path", "a\"b\\c\nd"}}).inc();
    const std::string text = registry.render();
    EXPECT_NE(text.find("# HELP odd_total Line one\\nback\\\\slash\n"), std::string::npos) << text;
    EXPECT_NE(text.find("odd_total{path=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
    const auto parsed = parse_prometheus_text(text);
    EXPECT_EQ(parsed.value("odd_total", {{"path", "a\"b\\c\nd"}}), 1.0);
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeWithInfSumAndCount) {
    Registry registry;
    Histogram& latency =
        registry.histogram("latency_seconds", "Latency", {0.125, 0.5, 1}, {{"route", "/r"}});
    for (const double v : {0.0625, 0.125, 0.25, 0.75, 3.0}) latency.observe(v);  // exact in binary
    EXPECT_EQ(registry.render(),
              "# HELP latency_seconds Latency\n"
              "# TYPE latency_seconds histogram\n"
              "latency_seconds_bucket{route=\"/r\",le=\"0.125\"} 2\n"
              "latency_seconds_bucket{route=\"/r\",le=\"0.5\"} 3\n"
              "latency_seconds_bucket{route=\"/r\",le=\"1\"} 4\n"
              "latency_seconds_bucket{route=\"/r\",le=\"+Inf\"} 5\n"
              "latency_seconds_sum{route=\"/r\"} 4.1875\n"
              "latency_seconds_count{route=\"/r\"} 5\n");
    EXPECT_NO_THROW(parse_prometheus_text(registry.render()));
}

TEST(MetricsRegistry, SmallBoundsRenderAsPlainDecimals) {
    Registry registry;
    registry.histogram("tiny_seconds", "Tiny", duration_buckets()).observe(0.0001);
    EXPECT_NE(registry.render().find("tiny_seconds_bucket{le=\"0.0005\"} 1\n"), std::string::npos);
}

TEST(MetricsRegistry, CallbackGaugesAreSampledAtRender) {
    Registry registry;
    double depth = 3;
    registry.gauge_callback("queue_depth", "Waiting", [&depth] { return depth; });
    EXPECT_NE(registry.render().find("queue_depth 3\n"), std::string::npos);
    depth = 7;
    EXPECT_NE(registry.render().find("queue_depth 7\n"), std::string::npos);
}

TEST(MetricsRegistry, SpecialValuesUseTheFormatsSpelling) {
    Registry registry;
    registry.gauge("a", "A", {{"v", "inf"}}).set(std::numeric_limits<double>::infinity());
    registry.gauge("a", "A", {{"v", "nan"}}).set(std::numeric_limits<double>::quiet_NaN());
    const std::string text = registry.render();
    EXPECT_NE(text.find("a{v=\"inf\"} +Inf\n"), std::string::npos) << text;
    EXPECT_NE(text.find("a{v=\"nan\"} NaN\n"), std::string::npos) << text;
    EXPECT_NO_THROW(parse_prometheus_text(text));
}

TEST(MetricsRegistry, RefusesMalformedNamesAndConflicts) {
    Registry registry;
    EXPECT_THROW(registry.counter("1bad", "x"), std::invalid_argument);
    EXPECT_THROW(registry.counter("bad-name", "x"), std::invalid_argument);
    EXPECT_THROW(registry.counter("ok_total", "x", {{"bad-label", "v"}}), std::invalid_argument);
    EXPECT_THROW(registry.counter("ok_total", "x", {{"le", "v"}}), std::invalid_argument);
    registry.counter("taken", "x");
    EXPECT_THROW(registry.gauge("taken", "x"), std::invalid_argument);
    registry.histogram("h", "x", {1, 2});
    EXPECT_THROW(registry.histogram("h", "x", {1, 3}), std::invalid_argument);
    EXPECT_THROW(registry.histogram("h2", "x", {2, 1}), std::invalid_argument);
    EXPECT_THROW(registry.histogram("h3", "x", {}), std::invalid_argument);
}

TEST(MetricsRegistry, ConcurrentUpdatesAreExact) {
    Registry registry;
    constexpr int kThreads = 8;
    constexpr int kPerThread = 100'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&registry, t] {
            // Half the threads look the series up each time, as a first answer on a route does.
            Counter& cached = registry.counter("ops_total", "Ops");
            Histogram& sizes = registry.histogram("sizes", "Sizes", {1, 10});
            Gauge& level = registry.gauge("level", "Level");
            for (int i = 0; i < kPerThread; ++i) {
                (t % 2 == 0 ? cached : registry.counter("ops_total", "Ops")).inc();
                sizes.observe(i % 20);
                level.add(1);
                level.add(-1);
            }
        });
    }
    for (auto& thread : threads) thread.join();
    const auto parsed = parse_prometheus_text(registry.render());
    EXPECT_EQ(parsed.value("ops_total"), double(kThreads) * kPerThread);
    EXPECT_EQ(parsed.value("sizes_count"), double(kThreads) * kPerThread);
    EXPECT_EQ(parsed.value("sizes_bucket", {{"le", "1"}}),
              double(kThreads) * kPerThread / 10);  // 0 and 1
    EXPECT_EQ(parsed.value("level"), 0.0);
}

}  // namespace
}  // namespace engined::metrics
