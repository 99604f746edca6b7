// What `enginectl lua test` found, and the three ways it shows it: text for people, --json for
// scripts, --junit FILE for CI servers; with --coverage, the lines of each scorecard no case ran.
#pragma once

#include "lua/sandbox.hpp"

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace engined::cli {

struct CaseResult {
    std::string suite;  // "placement/weights.json", or the scorecard when the failure is its own
    std::string name;   // "" for a failure of the whole suite or scorecard
    std::optional<std::string> failure;  // why it failed; nullopt when it passed
    std::vector<std::string> log;        // the run's log(...) lines
    std::size_t dropped_log_lines = 0;
};

struct ScorecardResults {
    std::string name;  // "placement/scorecard.lua"
    std::vector<CaseResult> cases;
    std::vector<lua::FunctionCoverage> coverage;  // empty unless --coverage
};

struct LineCount {
    std::size_t lines = 0;
    std::size_t covered = 0;
    double percent() const {
        return lines == 0 ? 100.0
                          : 100.0 * static_cast<double>(covered) / static_cast<double>(lines);
    }
};

struct TestReport {
    std::vector<ScorecardResults> scorecards;
    bool coverage_requested = false;
    std::optional<double> minimum_coverage;
    std::string pattern;  // --run, "" when every case runs

    std::size_t count(bool passed) const;
    // Every case passed, at least one ran, and every scorecard reaches the minimum coverage.
    bool passed() const;
};

// The distinct lines holding code in a scorecard, and how many of them ran.
LineCount line_count(const std::vector<lua::FunctionCoverage>& functions);

void print_text(const TestReport& report, std::ostream& out);
void print_json(const TestReport& report, std::ostream& out);
// Writes a JUnit XML report (one <testsuite> per test file) to `path`; throws when it cannot.
void write_junit(const TestReport& report, const std::string& path);

}  // namespace engined::cli
