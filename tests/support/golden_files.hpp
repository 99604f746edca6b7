// Golden files, for every engine's golden test: the cases of a folder (each
// <case>.input.json beside its <case>.expected.json), and the byte-for-byte comparison of an
// output with its expected file, failing with a line diff; with ENGINED_UPDATE_GOLDEN=1 the
// expected files are (re)written instead, the one deliberate way to change them.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace engined::testing::golden {

inline constexpr std::string_view kInputSuffix = ".input.json";
inline constexpr std::string_view kExpectedSuffix = ".expected.json";

// The case names, from the input files in `directory`, sorted so that the order is stable.
std::vector<std::string> cases(const std::filesystem::path& directory);

// Compares `actual` with <directory>/<name>.expected.json (a test failure with a line diff
// naming `update_command` when they differ or the file is missing), or writes it when
// ENGINED_UPDATE_GOLDEN=1.
void check(const std::filesystem::path& directory, const std::string& name,
           const std::string& actual, std::string_view update_command);

// A line diff of `expected` and `actual` ("-" expected only, "+" actual only) with two lines of
// context around each change.
std::string line_diff(const std::string& expected, const std::string& actual);

}  // namespace engined::testing::golden
