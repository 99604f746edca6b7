// The shared command-line reader: strict against a command's declaration, and its usage text.
#include "common/cli_args.hpp"

#include <gtest/gtest.h>

namespace engined::cli {
namespace {

const CommandSpec& spec() {
    static const CommandSpec declared{
        "tool do",
        "does a thing",
        {{"data-dir", "DIR", "where", ValueKind::kText, {}, true},
         {"limit", "N", "at most N", ValueKind::kCount},
         {"timeout", "SECONDS", "how long", ValueKind::kPositiveNumber},
         {"env", "", "which", ValueKind::kChoice, {"test", "live"}},
         {"wait", "", "wait for it"}},
        {{"FILE", "the input"}, {"OUT", "the output", true}},
        {}};
    return declared;
}

std::string refusal(const std::vector<std::string>& args) {
    try {
        Arguments parsed(args, spec());
    } catch (const UsageError& error) {
        return error.what();
    }
    return "accepted";
}

TEST(CliArguments, ReadsOptionsSwitchesAndPositionals) {
    const Arguments parsed(
        {"--data-dir=d", "in.json", "--limit", "3", "--wait", "--env", "live", "--", "--out"},
        spec());
    EXPECT_EQ(parsed.required("data-dir"), "d");
    EXPECT_EQ(parsed.number("limit", 20), 3);
    EXPECT_EQ(parsed.number("timeout", 60), 60);
    EXPECT_TRUE(parsed.has("wait"));
    EXPECT_EQ(parsed.optional("env", "test"), "live");
    EXPECT_EQ(parsed.positional(), (std::vector<std::string>{"in.json", "--out"}));
}

TEST(CliArguments, RefusesWhatTheDeclarationDoesNotAllow) {
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--limt", "3"}), "unknown option --limt");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "-x"}), "unknown option -x");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--wait=yes"}),
              "--wait is a switch and takes no value");
    EXPECT_EQ(
        refusal({"--data-dir", "d", "f", "--wait", "no"}),
        "--wait is a switch and takes no value (got 'no'): give --wait alone, or leave it out");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--limit"}), "--limit needs a value: N");
    EXPECT_EQ(refusal({"f"}), "missing --data-dir");
    EXPECT_EQ(refusal({"--data-dir", "d"}), "expected FILE [OUT], got 0 positional arguments");
    EXPECT_EQ(refusal({"--data-dir", "d", "a", "b", "c"}),
              "expected FILE [OUT], got 3 positional arguments");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--env", "prod"}),
              "--env takes one of test|live, got 'prod'");
}

TEST(CliArguments, ChecksNumbersAtAndPastTheirBounds) {
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--limit", "1"}), "accepted");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--limit", "0"}),
              "--limit takes a whole number of at least 1, got '0'");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--limit", "2.5"}),
              "--limit takes a whole number of at least 1, got '2.5'");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--timeout", "0.001"}), "accepted");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--timeout", "0"}),
              "--timeout takes a positive number, got '0'");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--timeout", "abc"}),
              "--timeout takes a positive number, got 'abc'");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--timeout", "5s"}),
              "--timeout takes a positive number, got '5s'");
    EXPECT_EQ(refusal({"--data-dir", "d", "f", "--timeout", "inf"}),
              "--timeout takes a positive number, got 'inf'");
}

TEST(CliArguments, HelpAnywhereSkipsTheChecks) {
    EXPECT_TRUE(Arguments({"--limt", "-h"}, spec()).help_requested());
    EXPECT_TRUE(Arguments({"--help"}, spec()).help_requested());
}

TEST(CliArguments, UsageIsGeneratedFromTheDeclaration) {
    EXPECT_EQ(spec().usage_line(),
              "tool do --data-dir DIR [--limit N] [--timeout SECONDS] [--env test|live] [--wait] "
              "FILE [OUT]");
    EXPECT_EQ(spec().short_usage(),
              "usage: " + spec().usage_line() + "\nRun 'tool do --help' for more.\n");
    const std::string help = spec().help();
    EXPECT_NE(help.find("\n  --timeout SECONDS  how long\n"), std::string::npos) << help;
    EXPECT_NE(help.find("\n  FILE               the input\n"), std::string::npos) << help;
    EXPECT_NE(help.find("\n  -h, --help         show this help\n"), std::string::npos) << help;
}

TEST(CliArguments, AUsageLineListsAtMostEightOptions) {
    CommandSpec many{
        "server", "serves", {{"must", "X", "required", ValueKind::kText, {}, true}}, {}, {}};
    for (int i = 1; i < 8; ++i) many.options.push_back({"o" + std::to_string(i), "V", "optional"});
    EXPECT_EQ(many.usage_line(),
              "server --must X [--o1 V] [--o2 V] [--o3 V] [--o4 V] [--o5 V] [--o6 V] [--o7 V]");
    many.options.push_back({"o8", "V", "optional"});
    EXPECT_EQ(many.usage_line(), "server --must X [options]");
    EXPECT_NE(many.help().find("  --o8 V "), std::string::npos) << many.help();
}

}  // namespace
}  // namespace engined::cli
