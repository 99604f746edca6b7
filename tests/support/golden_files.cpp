#include "golden_files.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace engined::testing::golden {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUpdateVariable = "ENGINED_UPDATE_GOLDEN";

bool updating() {
    const char* value = std::getenv(kUpdateVariable);
    return value != nullptr && std::string_view(value) == "1";
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) {
        lines.push_back(line);
    }
    return lines;
}

}  // namespace

// From the longest common subsequence of the two: outputs are a few thousand lines at most, so
// the quadratic table is small.
std::string line_diff(const std::string& expected, const std::string& actual) {
    const std::vector<std::string> a = lines_of(expected);
    const std::vector<std::string> b = lines_of(actual);
    std::vector<std::vector<std::uint32_t>> common(a.size() + 1,
                                                   std::vector<std::uint32_t>(b.size() + 1, 0));
    for (std::size_t i = a.size(); i-- > 0;) {
        for (std::size_t j = b.size(); j-- > 0;) {
            common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1
                                        : std::max(common[i + 1][j], common[i][j + 1]);
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

std::vector<std::string> cases(const fs::path& directory) {
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > kInputSuffix.size() && name.ends_with(kInputSuffix)) {
            names.push_back(name.substr(0, name.size() - kInputSuffix.size()));
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

void check(const fs::path& directory, const std::string& name, const std::string& actual,
           std::string_view update_command) {
    const fs::path expected_path = directory / (name + std::string(kExpectedSuffix));
    if (updating()) {
        std::ofstream(expected_path, std::ios::binary | std::ios::trunc) << actual;
        return;
    }
    std::ifstream file(expected_path, std::ios::binary);
    if (!file) {
        ADD_FAILURE() << expected_path.filename().string() << " is missing; write it with "
                      << update_command << " and review it before committing";
        return;
    }
    std::ostringstream expected;
    expected << file.rdbuf();
    EXPECT_TRUE(expected.str() == actual)
        << name << " differs from " << expected_path.filename().string()
        << " (- expected, + actual):\n"
        << line_diff(expected.str(), actual) << "If the change is intended, rewrite it with "
        << update_command;
}

}  // namespace engined::testing::golden
