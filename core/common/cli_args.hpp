// core/common/cli_args — the command-line reader that engined and enginectl share. Each command
// declares its options, switches and positional arguments with one line of help each; a command
// line is read strictly against that declaration (unknown options, switches given a value and
// values of the wrong kind are refused before the command does anything), and the usage and
// help texts are generated from it.
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace engined::cli {

// A usage mistake: the binary prints it with the command's short usage and exits 2.
class UsageError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// What an option's value must be; checked while the command line is read.
enum class ValueKind {
    kText,
    kPositiveNumber,  // a real number > 0 (rates, seconds)
    kCount,           // a whole number >= 1
    kChoice,          // one of OptionSpec::choices
};

struct OptionSpec {
    std::string name;        // without the leading "--"
    std::string value_name;  // "DIR", "SECONDS"; empty: a switch, which takes no value
    std::string help = {};
    ValueKind kind = ValueKind::kText;
    std::vector<std::string> choices = {};
    bool required = false;
};

struct PositionalSpec {
    std::string name;  // "SLUG", "FILE"
    std::string help = {};
    bool optional = false;  // only the last ones may be optional
};

struct CommandSpec {
    std::string name;     // as typed: "enginectl keys create", "engined"
    std::string summary;  // one line
    std::vector<OptionSpec> options;
    std::vector<PositionalSpec> positionals = {};
    std::string notes = {};  // further lines for --help, already indented

    // "enginectl keys create --data-dir DIR --org ORG [--json] KEY_ID"
    std::string usage_line() const;
    // The usage line, the summary and one line per option and positional argument.
    std::string help() const;
    // What follows a usage mistake: the usage line and where the full help is.
    std::string short_usage() const;
};

// "--name value", "--name=value", "--switch", positional arguments and "--" (only positional
// arguments after it), read against a CommandSpec.
class Arguments {
public:
    // Throws UsageError naming the first problem: an unknown option, a missing or ill-typed
    // value, a switch given a value, a missing required option or the wrong number of
    // positional arguments. "--help" or "-h" anywhere stops the checks: help_requested().
    Arguments(const std::vector<std::string>& args, const CommandSpec& spec);

    bool help_requested() const { return help_requested_; }
    std::string required(const std::string& name) const;
    std::string optional(const std::string& name, const std::string& fallback) const;
    // A kPositiveNumber or kCount option's value, or `fallback` when it was not given.
    double number(const std::string& name, double fallback) const;
    bool has(const std::string& name) const { return options_.count(name) > 0; }
    const std::vector<std::string>& positional() const { return positional_; }
    // Exactly as many positional arguments as `names` lists (e.g. "SLUG FILE"), or a UsageError.
    const std::vector<std::string>& positional_exactly(std::size_t count,
                                                       const std::string& names) const;

private:
    std::map<std::string, std::string> options_;
    std::vector<std::string> positional_;
    bool help_requested_ = false;
};

}  // namespace engined::cli
