// The golden placement cases: every tests/golden/placement/<case>.input.json runs through the
// engine with the preset configuration, the default scorecard and a fixed reference time, and
// the result must equal <case>.expected.json byte for byte (keys sorted, indented). With
// ENGINED_UPDATE_GOLDEN=1 the expected files are (re)written instead of compared; a missing
// expected file fails with the command that writes it.
#include "placement_engine.hpp"

#include "common/json_text.hpp"
#include "golden_files.hpp"
#include "lua_scoring_host.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace engined::placement {
namespace {

namespace golden = testing::golden;

constexpr std::string_view kGoldenDirectory = "tests/golden/placement";
constexpr std::string_view kUpdateCommand =
    "ENGINED_UPDATE_GOLDEN=1 ctest -L placement_golden_test";

std::filesystem::path golden_directory() {
    return std::filesystem::path(ENGINED_SOURCE_DIR) / kGoldenDirectory;
}

// The run's result as the expected file holds it: the body, keys sorted and indented.
std::string golden_output(std::string_view name) {
    test::LuaScoringHost host(test::default_scorecard());
    const PlacementResult result =
        run_placement(test::golden_input(name), test::preset_config(), host);
    return pretty_json(result.body) + "\n";
}

// One test over the cases found when it runs, so that a new input file needs no rebuild.
TEST(PlacementGolden, EveryCaseMatchesItsExpectedOutput) {
    const std::vector<std::string> cases = golden::cases(golden_directory());
    ASSERT_FALSE(cases.empty()) << "no *" << golden::kInputSuffix << " in " << kGoldenDirectory;
    for (const std::string& name : cases) {
        SCOPED_TRACE("golden case " + name);
        golden::check(golden_directory(), name, golden_output(name), kUpdateCommand);
    }
}

}  // namespace
}  // namespace engined::placement
