// enginectl lua test: a rule author's fixtures run against the scorecards of a scripts tree,
// with no server. DIR/<engine type>/scorecard.lua is loaded into the same sandbox the server
// uses, and every case of DIR/<engine type>/tests/*.json calls one of its functions in a fresh
// run and compares the answer (or the error it raised). Each run captures its log(...) lines;
// --coverage counts the lines the cases reach.
#include "commands.hpp"

#include "json_match.hpp"
#include "lua_report.hpp"

#include "lua/sandbox.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <regex>

namespace engined::cli {
namespace {

namespace fs = std::filesystem;

// Weights like 0.15 + 0.45 + ... are not exact in binary: a test compares numbers this closely
// unless it says otherwise.
constexpr double kDefaultTolerance = 1e-9;

// One entry of "cases". `expect` is the whole answer; `expect_sum` what the numbers in the
// answer add up to (weights that must total 1, say); `expect_error` text the error the call
// raises must contain ("" for any error). A case states `expect_error`, or one or both others.
struct TestCase {
    std::string name;
    std::string function;
    boost::json::array args;
    std::optional<boost::json::value> expect;
    std::optional<double> expect_sum;
    std::optional<std::string> expect_error;
    double tolerance = kDefaultTolerance;
};

TestCase parse_case(const boost::json::value& entry, std::size_t index) {
    const auto* fields = entry.if_object();
    if (fields == nullptr)
        throw std::invalid_argument("case " + std::to_string(index) + " is not an object");
    TestCase test;
    const auto* name = fields->if_contains("name");
    test.name = name && name->is_string() ? std::string(name->get_string())
                                          : "case " + std::to_string(index);
    const auto* call = fields->if_contains("call");
    if (call == nullptr || !call->is_string())
        throw std::invalid_argument(test.name + ": \"call\" must name a function");
    test.function = std::string(call->get_string());
    if (const auto* args = fields->if_contains("args")) {
        if (!args->is_array())
            throw std::invalid_argument(test.name + ": \"args\" must be an array");
        test.args = args->get_array();
    }
    if (const auto* expect = fields->if_contains("expect")) test.expect = *expect;
    if (const auto* sum = fields->if_contains("expect_sum")) {
        test.expect_sum = number_value(*sum);
        if (!test.expect_sum)
            throw std::invalid_argument(test.name + ": \"expect_sum\" must be a number");
    }
    if (const auto* error = fields->if_contains("expect_error")) {
        if (!error->is_string())
            throw std::invalid_argument(test.name + ": \"expect_error\" must be a string");
        if (test.expect || test.expect_sum) {
            throw std::invalid_argument(
                test.name +
                ": \"expect_error\" cannot be combined with \"expect\" or \"expect_sum\"");
        }
        test.expect_error = std::string(error->get_string());
    }
    if (!test.expect && !test.expect_sum && !test.expect_error) {
        throw std::invalid_argument(test.name +
                                    ": needs \"expect\", \"expect_sum\" or \"expect_error\"");
    }
    if (const auto* tolerance = fields->if_contains("tolerance")) {
        const auto value = number_value(*tolerance);
        if (!value || *value < 0)
            throw std::invalid_argument(test.name + ": \"tolerance\" must be a number >= 0");
        test.tolerance = *value;
    }
    return test;
}

std::optional<std::string> check_sum(const boost::json::value& answer, double expected,
                                     double tolerance) {
    std::vector<const boost::json::value*> items;
    if (answer.is_object()) {
        for (const auto& [key, value] : answer.get_object()) items.push_back(&value);
    } else if (answer.is_array()) {
        for (const auto& value : answer.get_array()) items.push_back(&value);
    }
    bool all_numbers = !items.empty();
    double sum = 0;
    for (const auto* item : items) {
        const auto number = number_value(*item);
        all_numbers = all_numbers && number.has_value();
        sum += number.value_or(0);
    }
    const std::string mismatch = "expected numbers adding up to " +
                                 readable_json(boost::json::value(expected)) + " got " +
                                 readable_json(answer);
    if (!all_numbers) return mismatch;
    if (std::fabs(sum - expected) <= tolerance) return std::nullopt;
    return mismatch + ", which add up to " + readable_json(boost::json::value(sum));
}

std::optional<std::string> check_answer(const TestCase& test, const boost::json::value& answer) {
    if (test.expect_error) {
        return test.function + "() returned " + readable_json(answer) +
               " but was expected to raise an error" +
               (test.expect_error->empty() ? "" : " containing \"" + *test.expect_error + "\"");
    }
    if (test.expect) {
        if (const auto pointer = first_difference(*test.expect, answer, test.tolerance)) {
            return "expected " + readable_json(*test.expect) + " got " + readable_json(answer) +
                   (pointer->empty() ? "" : " (first difference at " + *pointer + ")");
        }
    }
    return test.expect_sum ? check_sum(answer, *test.expect_sum, test.tolerance) : std::nullopt;
}

std::optional<std::string> check_error(const TestCase& test, const lua::LuaError& error) {
    const std::string raised = test.function + "() raised: " + error.message();
    if (!test.expect_error) return raised;
    if (error.message().find(*test.expect_error) != std::string::npos) return std::nullopt;
    return raised + " (expected an error containing \"" + *test.expect_error + "\")";
}

// Each case in its own run, as the server does it: nothing one case leaves behind is seen by the next.
CaseResult run_case(lua::Sandbox& sandbox, const std::string& suite, const TestCase& test) {
    CaseResult result{suite, test.name, std::nullopt, {}, 0};
    try {
        sandbox.begin_run(lua::RunOptions{.capture_log = true});
        const boost::json::value answer = sandbox.call(test.function, test.args);
        result.failure = check_answer(test, answer);
    } catch (const lua::LuaError& error) {
        result.failure = check_error(test, error);
    }
    result.log = sandbox.run_log().lines;
    result.dropped_log_lines = sandbox.run_log().dropped_lines;
    return result;
}

struct Selection {
    std::optional<std::regex> pattern;
    bool selects(const std::string& suite, const std::string& name) const {
        return !pattern || std::regex_search(suite + ": " + name, *pattern);
    }
};

// The cases of one test file, or one failed result saying why the file is unusable. A file with
// no cases is unusable: an empty suite proves nothing.
std::vector<CaseResult> run_test_file(lua::Sandbox& sandbox, const fs::path& file,
                                      const std::string& suite, const Selection& selection) {
    std::vector<TestCase> cases;
    try {
        const boost::json::value doc = boost::json::parse(read_text_file(file.string()));
        const auto* listed = doc.is_object() ? doc.get_object().if_contains("cases") : nullptr;
        if (listed == nullptr || !listed->is_array())
            throw std::invalid_argument("expected {\"cases\": [...]}");
        if (listed->get_array().empty()) throw std::invalid_argument("\"cases\" is empty");
        for (std::size_t i = 0; i < listed->get_array().size(); ++i)
            cases.push_back(parse_case(listed->get_array()[i], i));
    } catch (const std::exception& error) {
        return {
            CaseResult{suite, "", "not a usable test file: " + std::string(error.what()), {}, 0}};
    }
    std::vector<CaseResult> results;
    for (const TestCase& test : cases) {
        if (selection.selects(suite, test.name)) results.push_back(run_case(sandbox, suite, test));
    }
    return results;
}

std::vector<fs::path> sorted(std::vector<fs::path> paths) {
    std::sort(paths.begin(), paths.end());
    return paths;
}

// The scorecard of one engine type, compiled, with its top level run once: a script that fails
// there fails every case alike, so it is reported once instead.
std::optional<std::string> load_scorecard(std::optional<lua::Sandbox>& sandbox,
                                          const fs::path& script, const std::string& chunk_name,
                                          bool count_lines) {
    try {
        sandbox.emplace(read_text_file(script.string()), chunk_name);
        if (count_lines) sandbox->count_lines();
        sandbox->begin_run();
    } catch (const lua::LuaError& error) {
        return (sandbox ? "the top level raised: " : "does not compile: ") + error.message();
    }
    return std::nullopt;
}

struct Options {
    Selection selection;
    bool coverage = false;
};

// Runs the tests of `folder` when it is an engine type with tests; nullopt when it is not.
std::optional<ScorecardResults> run_engine_type(const fs::path& folder, const Options& options) {
    const fs::path script = folder / "scorecard.lua";
    const fs::path tests = folder / "tests";
    if (!fs::is_regular_file(script) || !fs::is_directory(tests)) return std::nullopt;
    ScorecardResults scorecard;
    scorecard.name = folder.filename().string() + "/scorecard.lua";
    std::optional<lua::Sandbox> sandbox;
    if (auto failure = load_scorecard(sandbox, script, scorecard.name, options.coverage)) {
        scorecard.cases.push_back({scorecard.name, "", std::move(failure), {}, 0});
        return scorecard;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(tests)) {
        if (entry.is_regular_file() && entry.path().extension() == ".json")
            files.push_back(entry.path());
    }
    if (files.empty()) {
        scorecard.cases.push_back({scorecard.name, "", "tests/ holds no *.json test file", {}, 0});
    }
    for (const fs::path& file : sorted(files)) {
        const std::string suite = folder.filename().string() + "/" + file.filename().string();
        for (auto& result : run_test_file(*sandbox, file, suite, options.selection)) {
            scorecard.cases.push_back(std::move(result));
        }
    }
    if (options.coverage) scorecard.coverage = sandbox->line_coverage();
    return scorecard;
}

Options options_from(const Arguments& args) {
    Options options;
    if (args.has("run")) {
        try {
            options.selection.pattern.emplace(args.required("run"));
        } catch (const std::regex_error& error) {
            throw UsageError("--run is not a valid regular expression: " +
                             std::string(error.what()));
        }
    }
    options.coverage = args.has("coverage") || args.has("min");
    return options;
}

std::optional<double> minimum_coverage(const Arguments& args) {
    if (!args.has("min")) return std::nullopt;
    const std::string text = args.required("min");
    try {
        std::size_t used = 0;
        const double percent = std::stod(text, &used);
        if (used == text.size() && percent >= 0 && percent <= 100) return percent;
    } catch (const std::exception&) {}
    throw UsageError("--min must be a percentage from 0 to 100, not '" + text + "'");
}

}  // namespace

std::vector<CommandSpec> lua_actions() {
    return {
        action_spec(
            "lua", "test",
            "run DIR/<engine type>/tests/*.json against DIR/<engine type>/scorecard.lua",
            {{"run", "PATTERN",
              "only the cases whose \"FILE: NAME\" matches this regular expression"},
             {"junit", "FILE", "also write the results as JUnit XML to FILE"},
             {"coverage", "", "report line coverage per function and list the lines no case ran"},
             {"min", "PCT", "fail when line coverage is below PCT (0-100; implies --coverage)"},
             json_switch()},
            {{"DIR", "the scorecards' folder (default: scripts/lua)", true}}),
    };
}

int lua_command(const std::string& action, const Arguments& args) {
    if (action != "test") throw UsageError("unknown lua action '" + action + "'");
    const Options options = options_from(args);
    const std::optional<double> minimum = minimum_coverage(args);
    const fs::path root =
        args.positional().empty() ? fs::path("scripts/lua") : fs::path(args.positional()[0]);
    if (!fs::is_directory(root)) throw std::runtime_error(root.string() + " is not a directory");
    std::vector<fs::path> folders;
    for (const auto& entry : fs::directory_iterator(root)) {
        if (entry.is_directory()) folders.push_back(entry.path());
    }
    TestReport report;
    for (const fs::path& folder : sorted(folders)) {
        if (auto scorecard = run_engine_type(folder, options))
            report.scorecards.push_back(std::move(*scorecard));
    }
    // A mistyped DIR must not pass as "0 failed".
    if (report.scorecards.empty()) {
        throw std::runtime_error("no <engine type>/scorecard.lua with a tests/ folder under " +
                                 root.string());
    }
    report.coverage_requested = options.coverage;
    report.minimum_coverage = minimum;
    report.pattern = args.optional("run", "");
    if (args.has("junit")) write_junit(report, args.required("junit"));
    if (args.has("json")) {
        print_json(report, std::cout);
    } else {
        print_text(report, std::cout);
    }
    return report.passed() ? 0 : 1;
}

}  // namespace engined::cli
