// The golden placement cases: every tests/golden/placement/<case>.input.json runs through the
// engine with the preset configuration, the default scorecard and a fixed reference time, and
// the result must equal <case>.expected.json byte for byte (keys sorted, indented). With
// ENGINED_UPDATE_GOLDEN=1 the expected files are (re)written instead of compared; a missing
// expected file fails with the command that writes it.
#include "placement_engine.hpp"

#include "common/json_text.hpp"
#include "lua_scoring_host.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace engined::placement {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kGoldenDirectory = "tests/golden/placement";
constexpr std::string_view kInputSuffix = ".input.json";
constexpr std::string_view kExpectedSuffix = ".expected.json";
constexpr const char* kUpdateVariable = "ENGINED_UPDATE_GOLDEN";

fs::path golden_directory() {
    return fs::path(ENGINED_SOURCE_DIR) / kGoldenDirectory;
}

// The case names, from the input files present, sorted so that the order is stable.
std::vector<std::string> golden_cases() {
    std::vector<std::string> cases;
    for (const fs::directory_entry& entry : fs::directory_iterator(golden_directory())) {
        const std::string name = entry.path().filename().string();
        if (name.size() > kInputSuffix.size() && name.ends_with(kInputSuffix)) {
            cases.push_back(name.substr(0, name.size() - kInputSuffix.size()));
        }
    }
    std::sort(cases.begin(), cases.end());
    return cases;
}

bool updating() {
    const char* value = std::getenv(kUpdateVariable);
    return value != nullptr && std::string_view(value) == "1";
}

// The run's result as the expected file holds it: the body, keys sorted and indented.
std::string golden_output(std::string_view name) {
    test::LuaScoringHost host(test::default_scorecard());
    const PlacementResult result =
        run_placement(test::golden_input(name), test::preset_config(), host);
    return pretty_json(result.body) + "\n";
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) {
        lines.push_back(line);
    }
    return lines;
}

// A line diff of `expected` and `actual` ("-" expected only, "+" actual only) with two lines of
// context around each change, from their longest common subsequence. Outputs are a few
// thousand lines at most, so the quadratic table is small.
std::string line_diff(const std::string& expected, const std::string& actual) {
    const std::vector<std::string> a = lines_of(expected);
    const std::vector<std::string> b = lines_of(actual);
    std::vector<std::vector<std::uint32_t>> common(a.size() + 1, std::vector<std::uint32_t>(b.size() + 1, 0));
    for (std::size_t i = a.size(); i-- > 0;) {
        for (std::size_t j = b.size(); j-- > 0;) {
            common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : std::max(common[i + 1][j], common[i][j + 1]);
        }
    }
    struct Line {
        char mark;
        std::size_t number;  // in the expected file for ' ' and '-', in the actual output for '+'
        const std::string* text;
    };
    std::vector<Line> script;
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() || j < b.size()) {
        if (i < a.size() && j < b.size() && a[i] == b[j]) {
            script.push_back({' ', i + 1, &a[i]});
            ++i;
            ++j;
        } else if (i < a.size() && (j == b.size() || common[i + 1][j] >= common[i][j + 1])) {
            script.push_back({'-', i + 1, &a[i]});
            ++i;
        } else {
            script.push_back({'+', j + 1, &b[j]});
            ++j;
        }
    }
    constexpr std::size_t kContext = 2;
    std::vector<bool> shown(script.size(), false);
    for (std::size_t k = 0; k < script.size(); ++k) {
        if (script[k].mark != ' ') {
            const std::size_t from = k >= kContext ? k - kContext : 0;
            for (std::size_t m = from; m < std::min(script.size(), k + kContext + 1); ++m) {
                shown[m] = true;
            }
        }
    }
    std::ostringstream diff;
    for (std::size_t k = 0; k < script.size(); ++k) {
        if (!shown[k]) {
            continue;
        }
        if (k > 0 && !shown[k - 1]) {
            diff << "...\n";
        }
        diff << script[k].mark << ' ' << script[k].number << ": " << *script[k].text << '\n';
    }
    return diff.str();
}

constexpr std::string_view kUpdateCommand = "ENGINED_UPDATE_GOLDEN=1 ctest -L placement_golden_test";

// Compares (or, when updating, writes) one case's expected output.
void check_case(const std::string& name) {
    const fs::path expected_path = golden_directory() / (name + std::string(kExpectedSuffix));
    const std::string actual = golden_output(name);
    if (updating()) {
        std::ofstream(expected_path, std::ios::binary | std::ios::trunc) << actual;
        return;
    }
    std::ifstream file(expected_path, std::ios::binary);
    if (!file) {
        ADD_FAILURE() << expected_path.filename().string() << " is missing; write it with " << kUpdateCommand
                      << " and review it before committing";
        return;
    }
    std::ostringstream expected;
    expected << file.rdbuf();
    EXPECT_TRUE(expected.str() == actual)
        << name << " differs from " << expected_path.filename().string() << " (- expected, + actual):\n"
        << line_diff(expected.str(), actual) << "If the change is intended, rewrite it with " << kUpdateCommand;
}

// One test over the cases found when it runs, so that a new input file needs no rebuild.
TEST(PlacementGolden, EveryCaseMatchesItsExpectedOutput) {
    const std::vector<std::string> cases = golden_cases();
    ASSERT_FALSE(cases.empty()) << "no *" << kInputSuffix << " in " << kGoldenDirectory;
    for (const std::string& name : cases) {
        SCOPED_TRACE("golden case " + name);
        check_case(name);
    }
}

}  // namespace
}  // namespace engined::placement
