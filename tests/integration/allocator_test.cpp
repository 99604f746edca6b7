// The engined binary allocates with the malloc it was built for (ENGINED_ALLOCATOR, CMakeLists.txt):
// linked with tcmalloc, tcmalloc serves the whole process, the dlopen'ed plugins included, and the
// start-up log says which allocator that is; /metrics shows what it holds.
#include "test_server.hpp"

#include "prometheus_text.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace engined::testing {
namespace {

TEST(Allocator, TheServingBinaryRunsOnTheAllocatorItWasBuiltWith) {
    const std::filesystem::path data_dir = fresh_temp_dir("engined-allocator");
    const std::string expected = std::string(R"("allocator":")") + ENGINED_EXPECTED_ALLOCATOR + '"';
    {
        const uint16_t port = chaos::free_loopback_port();
        const uint16_t metrics_port = chaos::free_loopback_port();
        chaos::ChildEngined engined(
            child_launch(data_dir,
                         {"--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)}),
            port);
        const ApiResponse submitted = run_placement_on_child(data_dir, port);
        ASSERT_EQ(submitted.status, 200) << submitted.body;
        EXPECT_EQ(submitted.body.at("status").as_string(), "completed");
        EXPECT_FALSE(submitted.body.at("solutions").as_array().empty());
        // The run's blocks came from this allocator and were given back to it. A sanitizer's
        // malloc has no such figures, and engined exports none then.
        http::Client metrics_client("127.0.0.1", metrics_port);
        const Exposition metrics =
            parse_prometheus_text(metrics_client.request("GET", "/metrics").body);
        const auto allocated = metrics.value("engined_allocator_bytes", {{"state", "allocated"}});
        const auto cached = metrics.value("engined_allocator_bytes", {{"state", "cached"}});
        if (std::string_view(ENGINED_EXPECTED_ALLOCATOR) == "sanitizer") {
            EXPECT_FALSE(allocated || cached);
        } else {
            EXPECT_GT(allocated.value_or(0), 0.0);
            EXPECT_GT(cached.value_or(0), 0.0);
        }
        EXPECT_EQ(engined.terminate(), 0);
    }
    const std::string log = read_text(data_dir / "engined.log");
    const auto listening = log.find(R"("engined listening")");
    ASSERT_NE(listening, std::string::npos) << log;
    const auto line_start = log.rfind('\n', listening) + 1;  // npos + 1: the first line
    const std::string line = log.substr(line_start, log.find('\n', listening) - line_start);
    EXPECT_NE(line.find(expected), std::string::npos) << line;
    std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace engined::testing
