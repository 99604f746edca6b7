#include "common/cli_args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace engined::cli {
namespace {

bool is_help(const std::string& arg) {
    return arg == "--help" || arg == "-h";
}

// Words people put after a switch thinking it takes one; refused so that "--dry-run no" cannot
// mean the opposite of what it says.
bool is_boolean_word(const std::string& arg) {
    static const std::vector<std::string> words = {"yes", "no",  "true", "false",
                                                   "on",  "off", "1",    "0"};
    return std::find(words.begin(), words.end(), arg) != words.end();
}

// "test|live" for a choice, else the declared value name ("DIR"); empty for a switch.
std::string value_usage(const OptionSpec& option) {
    if (option.kind != ValueKind::kChoice) return option.value_name;
    std::string joined;
    for (const auto& choice : option.choices) joined += (joined.empty() ? "" : "|") + choice;
    return joined;
}

std::string option_usage(const OptionSpec& option) {
    const std::string value = value_usage(option);
    const std::string text = "--" + option.name + (value.empty() ? "" : " " + value);
    return option.required ? text : "[" + text + "]";
}

std::string positional_usage(const PositionalSpec& positional) {
    return positional.optional ? "[" + positional.name + "]" : positional.name;
}

// Reads the whole of `text` as a finite number; false when it is not one.
bool read_number(const std::string& text, double& value) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

void check_value(const OptionSpec& option, const std::string& value) {
    const std::string flag = "--" + option.name;
    double number = 0;
    switch (option.kind) {
        case ValueKind::kText:
            return;
        case ValueKind::kPositiveNumber:
            if (!read_number(value, number) || !(number > 0)) {
                throw UsageError(flag + " takes a positive number, got '" + value + "'");
            }
            return;
        case ValueKind::kCount:
            if (!read_number(value, number) || number < 1 || number != std::floor(number)) {
                throw UsageError(flag + " takes a whole number of at least 1, got '" + value + "'");
            }
            return;
        case ValueKind::kChoice:
            if (std::find(option.choices.begin(), option.choices.end(), value) ==
                option.choices.end()) {
                throw UsageError(flag + " takes one of " + value_usage(option) + ", got '" + value +
                                 "'");
            }
            return;
    }
}

}  // namespace

std::string CommandSpec::usage_line() const {
    // One line a person reads: a command with dozens of settings (engined) lists them in --help.
    constexpr std::size_t kMostOptionsListed = 8;
    std::string line = name;
    for (const auto& option : options) {
        if (option.required || options.size() <= kMostOptionsListed)
            line += " " + option_usage(option);
    }
    if (options.size() > kMostOptionsListed) line += " [options]";
    for (const auto& positional : positionals) line += " " + positional_usage(positional);
    return line;
}

std::string CommandSpec::help() const {
    std::string text = "usage: " + usage_line() + "\n\n" + summary + "\n";
    if (!notes.empty()) text += notes;
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& positional : positionals) rows.emplace_back(positional.name, positional.help);
    for (const auto& option : options) {
        const std::string value = value_usage(option);
        rows.emplace_back("--" + option.name + (value.empty() ? "" : " " + value), option.help);
    }
    rows.emplace_back("-h, --help", "show this help");
    std::size_t width = 0;
    for (const auto& row : rows) width = std::max(width, row.first.size());
    text += "\n";
    for (const auto& [left, help_text] : rows) {
        text += "  " + left + std::string(width - left.size() + 2, ' ') + help_text + "\n";
    }
    return text;
}

std::string CommandSpec::short_usage() const {
    return "usage: " + usage_line() + "\nRun '" + name + " --help' for more.\n";
}

Arguments::Arguments(const std::vector<std::string>& args, const CommandSpec& spec) {
    if (std::any_of(args.begin(), args.end(), is_help)) {
        help_requested_ = true;
        return;
    }
    bool options_ended = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (options_ended || arg == "-" || arg.empty() || arg[0] != '-') {
            positional_.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_ended = true;
            continue;
        }
        const auto eq = arg.find('=');
        const std::string flag = arg.substr(0, eq);
        const auto option =
            std::find_if(spec.options.begin(), spec.options.end(),
                         [&](const OptionSpec& o) { return "--" + o.name == flag; });
        if (option == spec.options.end()) throw UsageError("unknown option " + flag);
        const std::string& name = option->name;
        if (value_usage(*option).empty()) {
            if (eq != std::string::npos) throw UsageError(flag + " is a switch and takes no value");
            if (i + 1 < args.size() && is_boolean_word(args[i + 1])) {
                throw UsageError(flag + " is a switch and takes no value (got '" + args[i + 1] +
                                 "'): give " + flag + " alone, or leave it out");
            }
            options_[name] = "true";
            continue;
        }
        std::string value;
        if (eq != std::string::npos) {
            value = arg.substr(eq + 1);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            throw UsageError(flag + " needs a value: " + value_usage(*option));
        }
        check_value(*option, value);
        options_[name] = value;
    }
    for (const auto& option : spec.options) {
        if (option.required && !options_.count(option.name))
            throw UsageError("missing --" + option.name);
    }
    const auto least = static_cast<std::size_t>(
        std::count_if(spec.positionals.begin(), spec.positionals.end(),
                      [](const PositionalSpec& p) { return !p.optional; }));
    if (positional_.size() < least || positional_.size() > spec.positionals.size()) {
        std::string names;
        for (const auto& positional : spec.positionals) names += " " + positional_usage(positional);
        if (spec.positionals.empty()) {
            throw UsageError("takes no positional arguments, got '" + positional_.front() + "'");
        }
        throw UsageError("expected" + names + ", got " + std::to_string(positional_.size()) +
                         " positional argument" + (positional_.size() == 1 ? "" : "s"));
    }
}

std::string Arguments::required(const std::string& name) const {
    const auto it = options_.find(name);
    if (it == options_.end()) throw UsageError("missing --" + name);
    return it->second;
}

std::string Arguments::optional(const std::string& name, const std::string& fallback) const {
    const auto it = options_.find(name);
    return it == options_.end() ? fallback : it->second;
}

double Arguments::number(const std::string& name, double fallback) const {
    const auto it = options_.find(name);
    double value = fallback;
    if (it != options_.end() && !read_number(it->second, value)) {
        throw UsageError("--" + name + " takes a number, got '" + it->second + "'");
    }
    return value;
}

const std::vector<std::string>& Arguments::positional_exactly(std::size_t count,
                                                              const std::string& names) const {
    if (positional_.size() != count) throw UsageError("expected " + names);
    return positional_;
}

}  // namespace engined::cli
