#include "lua_report.hpp"

#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

namespace engined::cli {
namespace {

std::string percent_text(double percent) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f%%", percent);
    return buffer;
}

// "22, 25-27": sorted line numbers with runs folded.
std::string line_ranges(const std::vector<int>& lines) {
    std::string text;
    for (std::size_t i = 0; i < lines.size();) {
        std::size_t end = i;
        while (end + 1 < lines.size() && lines[end + 1] == lines[end] + 1) ++end;
        if (!text.empty()) text += ", ";
        text += std::to_string(lines[i]);
        if (end > i) text += "-" + std::to_string(lines[end]);
        i = end + 1;
    }
    return text;
}

bool below_minimum(const TestReport& report, const ScorecardResults& scorecard) {
    return report.minimum_coverage &&
           line_count(scorecard.coverage).percent() < *report.minimum_coverage;
}

std::string no_case_selected(const TestReport& report) {
    return "no case matches --run " + report.pattern;
}

void print_case(const CaseResult& result, std::ostream& out) {
    out << (result.failure ? "FAIL " : "PASS ") << result.suite;
    if (!result.name.empty()) out << ": " << result.name;
    if (result.failure) out << ": " << *result.failure;
    out << "\n";
    for (const std::string& line : result.log) out << "  log: " << line << "\n";
    if (result.dropped_log_lines > 0) {
        out << "  log: (" << result.dropped_log_lines << " more lines past the log limit)\n";
    }
}

void print_coverage(const TestReport& report, const ScorecardResults& scorecard,
                    std::ostream& out) {
    const LineCount total = line_count(scorecard.coverage);
    out << "coverage " << scorecard.name << ": " << percent_text(total.percent()) << " of "
        << total.lines << " lines\n";
    for (const lua::FunctionCoverage& function : scorecard.coverage) {
        const LineCount own{function.lines.size(),
                            function.lines.size() - function.uncovered.size()};
        out << "  " << function.name << " (lines " << function.first_line << "-"
            << function.last_line << "): " << percent_text(own.percent()) << " (" << own.covered
            << "/" << own.lines << ")";
        if (!function.uncovered.empty()) out << ", not run: " << line_ranges(function.uncovered);
        out << "\n";
    }
    if (below_minimum(report, scorecard)) {
        out << "coverage of " << scorecard.name << " is below --min "
            << percent_text(*report.minimum_coverage) << "\n";
    }
}

boost::json::object coverage_json(const ScorecardResults& scorecard) {
    const LineCount total = line_count(scorecard.coverage);
    boost::json::array functions;
    for (const lua::FunctionCoverage& function : scorecard.coverage) {
        functions.push_back({{"name", function.name},
                             {"first_line", function.first_line},
                             {"last_line", function.last_line},
                             {"lines", function.lines.size()},
                             {"covered", function.lines.size() - function.uncovered.size()},
                             {"uncovered", boost::json::value_from(function.uncovered)}});
    }
    return {{"scorecard", scorecard.name},
            {"lines", total.lines},
            {"covered", total.covered},
            {"percent", total.percent()},
            {"functions", std::move(functions)}};
}

std::string xml_escaped(const std::string& text) {
    std::string escaped;
    for (const char c : text) {
        switch (c) {
            case '&':
                escaped += "&amp;";
                break;
            case '<':
                escaped += "&lt;";
                break;
            case '>':
                escaped += "&gt;";
                break;
            case '"':
                escaped += "&quot;";
                break;
            case '\n':
                escaped += "&#10;";
                break;
            case '\t':
                escaped += "&#9;";
                break;
            default:
                // Control characters have no place in XML 1.0, even escaped.
                if (static_cast<unsigned char>(c) >= 0x20)
                    escaped += c;
                else
                    escaped += ' ';
        }
    }
    return escaped;
}

}  // namespace

LineCount line_count(const std::vector<lua::FunctionCoverage>& functions) {
    std::set<int> lines;
    std::set<int> uncovered;
    for (const lua::FunctionCoverage& function : functions) {
        lines.insert(function.lines.begin(), function.lines.end());
        uncovered.insert(function.uncovered.begin(), function.uncovered.end());
    }
    return {lines.size(), lines.size() - uncovered.size()};
}

std::size_t TestReport::count(bool passed) const {
    std::size_t total = 0;
    for (const ScorecardResults& scorecard : scorecards) {
        total += static_cast<std::size_t>(std::count_if(
            scorecard.cases.begin(), scorecard.cases.end(),
            [&](const CaseResult& result) { return result.failure.has_value() != passed; }));
    }
    return total;
}

bool TestReport::passed() const {
    const bool every_coverage = std::none_of(
        scorecards.begin(), scorecards.end(),
        [&](const ScorecardResults& scorecard) { return below_minimum(*this, scorecard); });
    return count(false) == 0 && count(true) > 0 && every_coverage;
}

void print_text(const TestReport& report, std::ostream& out) {
    for (const ScorecardResults& scorecard : report.scorecards) {
        for (const CaseResult& result : scorecard.cases) print_case(result, out);
    }
    if (report.coverage_requested) {
        // A scorecard that failed to load has no coverage to show; its failure is listed above.
        for (const ScorecardResults& scorecard : report.scorecards) {
            if (!scorecard.coverage.empty()) print_coverage(report, scorecard, out);
        }
    }
    if (report.count(true) + report.count(false) == 0) out << no_case_selected(report) << "\n";
    out << report.count(true) << " passed, " << report.count(false) << " failed\n";
}

void print_json(const TestReport& report, std::ostream& out) {
    boost::json::array cases;
    boost::json::array coverage;
    for (const ScorecardResults& scorecard : report.scorecards) {
        for (const CaseResult& result : scorecard.cases) {
            boost::json::object entry{{"suite", result.suite},
                                      {"name", result.name},
                                      {"status", result.failure ? "failed" : "passed"},
                                      {"log", boost::json::value_from(result.log)},
                                      {"dropped_log_lines", result.dropped_log_lines}};
            if (result.failure) entry["message"] = *result.failure;
            cases.push_back(std::move(entry));
        }
        if (report.coverage_requested && !scorecard.coverage.empty()) {
            boost::json::object entry = coverage_json(scorecard);
            entry["below_minimum"] = below_minimum(report, scorecard);
            coverage.push_back(std::move(entry));
        }
    }
    boost::json::object document{{"ok", report.passed()},
                                 {"passed", report.count(true)},
                                 {"failed", report.count(false)},
                                 {"cases", std::move(cases)}};
    if (report.coverage_requested) document["coverage"] = std::move(coverage);
    out << compact_json(document) << "\n";
}

void write_junit(const TestReport& report, const std::string& path) {
    std::map<std::string, std::vector<const CaseResult*>> suites;
    for (const ScorecardResults& scorecard : report.scorecards) {
        for (const CaseResult& result : scorecard.cases) suites[result.suite].push_back(&result);
    }
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    xml += "<testsuites name=\"enginectl lua test\" tests=\"" +
           std::to_string(report.count(true) + report.count(false)) + "\" failures=\"" +
           std::to_string(report.count(false)) + "\">\n";
    for (const auto& [suite, results] : suites) {
        const auto failures =
            std::count_if(results.begin(), results.end(),
                          [](const CaseResult* result) { return result->failure.has_value(); });
        xml += "  <testsuite name=\"" + xml_escaped(suite) + "\" tests=\"" +
               std::to_string(results.size()) + "\" failures=\"" + std::to_string(failures) +
               "\">\n";
        for (const CaseResult* result : results) {
            xml += "    <testcase classname=\"" + xml_escaped(suite) + "\" name=\"" +
                   xml_escaped(result->name.empty() ? suite : result->name) + "\">\n";
            if (result->failure) {
                xml += "      <failure message=\"" + xml_escaped(*result->failure) + "\"/>\n";
            }
            if (!result->log.empty()) {
                std::string log;
                for (const std::string& line : result->log) log += line + "\n";
                xml += "      <system-out>" + xml_escaped(log) + "</system-out>\n";
            }
            xml += "    </testcase>\n";
        }
        xml += "  </testsuite>\n";
    }
    xml += "</testsuites>\n";
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file || !(file << xml) || !file.flush()) throw std::runtime_error("cannot write " + path);
}

}  // namespace engined::cli
