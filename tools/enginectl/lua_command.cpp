// enginectl lua test: a rule author's fixtures run against the scorecards of a scripts tree,
// with no server. DIR/<engine type>/scorecard.lua is loaded into the same sandbox the server
// uses, and every case of DIR/<engine type>/tests/*.json calls one of its functions in a fresh
// run and compares the answer.
#include "commands.hpp"

#include "json_match.hpp"

#include "lua/sandbox.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>

namespace engined::cli {
namespace {

namespace fs = std::filesystem;

// Weights like 0.15 + 0.45 + ... are not exact in binary: a test compares numbers this closely
// unless it says otherwise.
constexpr double kDefaultTolerance = 1e-9;

struct Tally {
    int passed = 0;
    int failed = 0;
};

void report(Tally& tally, const std::string& where, const std::optional<std::string>& failure) {
    if (failure) {
        std::cout << "FAIL " << where << ": " << *failure << "\n";
        ++tally.failed;
    } else {
        std::cout << "PASS " << where << "\n";
        ++tally.passed;
    }
}

// One entry of "cases". `expect` is the whole answer; `expect_sum` what the numbers in the
// answer add up to (weights that must total 1, say). A case states one or both.
struct TestCase {
    std::string name;
    std::string function;
    boost::json::array args;
    std::optional<boost::json::value> expect;
    std::optional<double> expect_sum;
    double tolerance = kDefaultTolerance;
};

TestCase parse_case(const boost::json::value& entry, std::size_t index) {
    const auto* fields = entry.if_object();
    if (fields == nullptr) throw std::invalid_argument("case " + std::to_string(index) + " is not an object");
    TestCase test;
    const auto* name = fields->if_contains("name");
    test.name = name && name->is_string() ? std::string(name->get_string()) : "case " + std::to_string(index);
    const auto* call = fields->if_contains("call");
    if (call == nullptr || !call->is_string()) throw std::invalid_argument(test.name + ": \"call\" must name a function");
    test.function = std::string(call->get_string());
    if (const auto* args = fields->if_contains("args")) {
        if (!args->is_array()) throw std::invalid_argument(test.name + ": \"args\" must be an array");
        test.args = args->get_array();
    }
    if (const auto* expect = fields->if_contains("expect")) test.expect = *expect;
    if (const auto* sum = fields->if_contains("expect_sum")) {
        test.expect_sum = number_value(*sum);
        if (!test.expect_sum) throw std::invalid_argument(test.name + ": \"expect_sum\" must be a number");
    }
    if (!test.expect && !test.expect_sum) throw std::invalid_argument(test.name + ": needs \"expect\" or \"expect_sum\"");
    if (const auto* tolerance = fields->if_contains("tolerance")) {
        const auto value = number_value(*tolerance);
        if (!value || *value < 0) throw std::invalid_argument(test.name + ": \"tolerance\" must be a number >= 0");
        test.tolerance = *value;
    }
    return test;
}

std::optional<std::string> check_sum(const boost::json::value& answer, double expected, double tolerance) {
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
    const std::string mismatch = "expected numbers adding up to " + readable_json(boost::json::value(expected)) +
                                 " got " + readable_json(answer);
    if (!all_numbers) return mismatch;
    if (std::fabs(sum - expected) <= tolerance) return std::nullopt;
    return mismatch + ", which add up to " + readable_json(boost::json::value(sum));
}

// Each case in its own run, as the server does it: nothing one case leaves behind is seen by the next.
std::optional<std::string> run_case(lua::Sandbox& sandbox, const TestCase& test) {
    boost::json::value answer;
    try {
        sandbox.begin_run();
        answer = sandbox.call(test.function, test.args);
    } catch (const lua::LuaError& error) {
        return test.function + "() raised: " + error.what();
    }
    if (test.expect) {
        if (const auto pointer = first_difference(*test.expect, answer, test.tolerance)) {
            return "expected " + readable_json(*test.expect) + " got " + readable_json(answer) +
                   (pointer->empty() ? "" : " (first difference at " + *pointer + ")");
        }
    }
    return test.expect_sum ? check_sum(answer, *test.expect_sum, test.tolerance) : std::nullopt;
}

void run_test_file(lua::Sandbox& sandbox, const fs::path& file, const std::string& label, Tally& tally) {
    std::vector<TestCase> cases;
    try {
        const boost::json::value doc = boost::json::parse(read_text_file(file.string()));
        const auto* listed = doc.is_object() ? doc.get_object().if_contains("cases") : nullptr;
        if (listed == nullptr || !listed->is_array()) throw std::invalid_argument("expected {\"cases\": [...]}");
        for (std::size_t i = 0; i < listed->get_array().size(); ++i) cases.push_back(parse_case(listed->get_array()[i], i));
    } catch (const std::exception& error) {
        report(tally, label, "not a usable test file: " + std::string(error.what()));
        return;
    }
    for (const TestCase& test : cases) report(tally, label + ": " + test.name, run_case(sandbox, test));
}

std::vector<fs::path> sorted(std::vector<fs::path> paths) {
    std::sort(paths.begin(), paths.end());
    return paths;
}

// Whether `folder` is an engine type with tests; runs them if so.
bool run_engine_type(const fs::path& folder, Tally& tally) {
    const fs::path script = folder / "scorecard.lua";
    const fs::path tests = folder / "tests";
    if (!fs::is_regular_file(script) || !fs::is_directory(tests)) return false;
    const std::string type = folder.filename().string();
    std::optional<lua::Sandbox> sandbox;
    try {
        sandbox.emplace(read_text_file(script.string()), type + "/scorecard.lua");
    } catch (const lua::LuaError& error) {
        report(tally, type + "/scorecard.lua", "does not compile: " + std::string(error.what()));
        return true;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(tests)) {
        if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
    }
    for (const fs::path& file : sorted(files)) {
        run_test_file(*sandbox, file, type + "/" + file.filename().string(), tally);
    }
    return true;
}

}  // namespace

std::vector<CommandSpec> lua_actions() {
    return {
        action_spec("lua", "test", "run DIR/<engine type>/tests/*.json against DIR/<engine type>/scorecard.lua", {},
                    {{"DIR", "the scorecards' folder (default: scripts/lua)", true}}),
    };
}

int lua_command(const std::string& action, const Arguments& args) {
    if (action != "test") throw UsageError("unknown lua action '" + action + "'");
    const fs::path root = args.positional().empty() ? fs::path("scripts/lua") : fs::path(args.positional()[0]);
    if (!fs::is_directory(root)) throw std::runtime_error(root.string() + " is not a directory");
    std::vector<fs::path> folders;
    for (const auto& entry : fs::directory_iterator(root)) {
        if (entry.is_directory()) folders.push_back(entry.path());
    }
    Tally tally;
    bool found = false;
    for (const fs::path& folder : sorted(folders)) found = run_engine_type(folder, tally) || found;
    // A mistyped DIR must not pass as "0 failed".
    if (!found) throw std::runtime_error("no <engine type>/scorecard.lua with a tests/ folder under " + root.string());
    std::cout << tally.passed << " passed, " << tally.failed << " failed\n";
    return tally.failed == 0 ? 0 : 1;
}

}  // namespace engined::cli
