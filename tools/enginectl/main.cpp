#include "commands.hpp"

#include "common/json_text.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

namespace engined::cli {

const std::vector<Family>& families() {
    static const std::vector<Family> all = {
        {"keys", "API keys, created directly in a server's store", keys_actions, keys_command},
        {"pools", "carrier pools in a server's store", pools_actions, pools_command},
        {"engines", "an organisation's engines", engines_actions, engines_command},
        {"config", "an engine's draft configuration", config_actions, config_command},
        {"versions", "an engine's published versions", versions_actions, versions_command},
        {"contract", "what an engine accepts and answers", contract_actions, contract_command},
        {"runs", "runs: submit, wait, show, replay", runs_actions, runs_command},
        {"environments", "an organisation's environments, in a server's store",
         environments_actions, environments_command},
        {"audit", "the audit log of operator actions, in a server's store: list, verify",
         audit_actions, audit_command},
        {"lua", "Lua scorecard tests, without a server", lua_actions, lua_command},
        {"eval", "an engine run in this process, without a server", eval_actions, eval_command},
    };
    return all;
}

CommandSpec action_spec(const std::string& family, const std::string& action,
                        const std::string& summary, std::vector<OptionSpec> options,
                        std::vector<PositionalSpec> positionals) {
    return {"enginectl " + family + " " + action,
            summary,
            std::move(options),
            std::move(positionals),
            {}};
}

CommandSpec server_action_spec(const std::string& family, const std::string& action,
                               const std::string& summary, std::vector<OptionSpec> options,
                               std::vector<PositionalSpec> positionals) {
    options.push_back(
        {"url", "URL", "the server (default $ENGINED_URL, else http://127.0.0.1:8080)"});
    options.push_back({"key", "KEY", "the API key (default $ENGINED_KEY, else $ENGINED_API_KEY)"});
    return action_spec(family, action, summary, std::move(options), std::move(positionals));
}

OptionSpec json_switch() {
    return {"json", "", "print the result as JSON on stdout"};
}

void print_json(const boost::json::value& value) {
    std::cout << pretty_json(value);
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace engined::cli

namespace {

using namespace engined::cli;

bool is_help(const std::string& arg) {
    return arg == "--help" || arg == "-h" || arg == "help";
}

std::string overview() {
    std::string text = "usage: enginectl FAMILY ACTION [options]\n\n";
    for (const Family& family : families()) {
        text += family.name + " — " + family.summary + "\n";
        for (const CommandSpec& action : family.actions()) {
            std::string name = action.name.substr(std::string("enginectl ").size());
            text += "  " + name + std::string(name.size() < 20 ? 20 - name.size() : 1, ' ') +
                    action.summary + "\n";
        }
    }
    return text +
           "\nRun 'enginectl FAMILY ACTION --help' for an action's options. Commands that talk to "
           "a server\n"
           "take --url (default $ENGINED_URL, else http://127.0.0.1:8080) and --key (default "
           "$ENGINED_KEY);\n"
           "commands that print data take --json. Exit status: 0 done, 1 failed, 2 usage "
           "mistake.\n";
}

std::string family_usage(const Family& family) {
    std::string text =
        "usage: enginectl " + family.name + " ACTION [options]   (" + family.summary + ")\n\n";
    for (const CommandSpec& action : family.actions()) text += "  " + action.usage_line() + "\n";
    return text + "\nRun 'enginectl " + family.name + " ACTION --help' for an action's options.\n";
}

int usage_mistake(const std::string& message, const std::string& usage) {
    std::cerr << "enginectl: " << message << "\n" << usage;
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty())
        return usage_mistake(
            "no command given",
            "usage: enginectl FAMILY ACTION [options]\nRun 'enginectl --help' for the commands.\n");
    if (is_help(args[0])) {
        std::cout << overview();
        return 0;
    }
    const auto& all = families();
    const auto family =
        std::find_if(all.begin(), all.end(), [&](const Family& f) { return f.name == args[0]; });
    if (family == all.end()) {
        return usage_mistake(
            "unknown command family '" + args[0] + "'",
            "usage: enginectl FAMILY ACTION [options]\nRun 'enginectl --help' for the commands.\n");
    }
    const std::vector<CommandSpec> actions = family->actions();
    // A family of one unnamed action (`enginectl eval …`) reads its options right after its name.
    const bool single_action =
        actions.size() == 1 && actions.front().name == "enginectl " + family->name;
    if (!single_action) {
        if (args.size() < 2)
            return usage_mistake(family->name + " needs an action", family_usage(*family));
        if (is_help(args[1])) {
            std::cout << family_usage(*family);
            return 0;
        }
    }
    const std::string action = single_action ? std::string() : args[1];
    const auto spec = std::find_if(actions.begin(), actions.end(), [&](const CommandSpec& a) {
        return a.name == "enginectl " + family->name + (single_action ? "" : " " + action);
    });
    if (spec == actions.end()) {
        return usage_mistake("unknown " + family->name + " action '" + action + "'",
                             family_usage(*family));
    }
    try {
        const Arguments parsed(
            std::vector<std::string>(args.begin() + (single_action ? 1 : 2), args.end()), *spec);
        if (parsed.help_requested()) {
            std::cout << spec->help();
            return 0;
        }
        return family->run(action, parsed);
    } catch (const UsageError& error) {
        return usage_mistake(error.what(), spec->short_usage());
    } catch (const std::exception& error) {
        std::cerr << "enginectl: " << error.what() << "\n";
        return 1;
    }
}
