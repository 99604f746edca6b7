// enginectl — the operator's and integrator's command line. Each command family lives in its
// own file and declares its actions (common/cli_args.hpp); main.cpp reads the command line
// against the declaration before the family runs the action.
#pragma once

#include "common/cli_args.hpp"

#include <boost/json/fwd.hpp>

#include <memory>

#include <string>
#include <vector>

namespace engined::store {
class Store;
}

namespace engined::audit {
class AuditTrail;
}

namespace engined::cli {

// One family ("keys", "runs", …): its actions' declarations and what runs them.
struct Family {
    std::string name;
    std::string summary;
    std::vector<CommandSpec> (*actions)();
    int (*run)(const std::string& action, const Arguments& args);
};

// Every family, in the order `enginectl --help` lists them.
const std::vector<Family>& families();

// A declaration of `enginectl FAMILY ACTION`.
CommandSpec action_spec(const std::string& family, const std::string& action,
                        const std::string& summary, std::vector<OptionSpec> options,
                        std::vector<PositionalSpec> positionals = {});
// The same, for an action that talks to a server: adds --url and --key.
CommandSpec server_action_spec(const std::string& family, const std::string& action,
                               const std::string& summary, std::vector<OptionSpec> options,
                               std::vector<PositionalSpec> positionals = {});
// --json: print the command's data as JSON on stdout instead of text.
OptionSpec json_switch();
// Prints `value` as indented JSON: what --json prints.
void print_json(const boost::json::value& value);

// The store --store URL names (sqlite:PATH or postgresql://…), else the SQLite store of the
// server whose data folder --data-dir names; only --create-store makes a new one.
std::unique_ptr<store::Store> open_store(const Arguments& args);
// --data-dir DIR and --store URL: how every command that works on a server's store directly names it.
OptionSpec data_dir_option();
OptionSpec store_option();
// --audit-key-file FILE: the key engined seals its audit log with.
OptionSpec audit_key_option();
// The audit key `option` names, else audit.key in --data-dir (with `create`, written there when
// absent, as engined does at its first start), else $ENGINED_AUDIT_KEY_FILE; a UsageError
// otherwise.
std::string audit_key(const Arguments& args, const std::string& option, bool create);
// The trail a command that changes a store directly records its action on, as cli:<OS user>.
std::unique_ptr<audit::AuditTrail> open_audit_trail(store::Store& store, const Arguments& args);

// The whole file, or std::runtime_error naming it.
std::string read_text_file(const std::string& path);

std::vector<CommandSpec> keys_actions();
std::vector<CommandSpec> runs_actions();
std::vector<CommandSpec> engines_actions();
std::vector<CommandSpec> config_actions();
std::vector<CommandSpec> versions_actions();
std::vector<CommandSpec> contract_actions();
std::vector<CommandSpec> lua_actions();
std::vector<CommandSpec> pools_actions();
std::vector<CommandSpec> environments_actions();
std::vector<CommandSpec> audit_actions();
// One unnamed action: `enginectl eval [options] INPUT.json`.
std::vector<CommandSpec> eval_actions();

int keys_command(const std::string& action, const Arguments& args);
int runs_command(const std::string& action, const Arguments& args);
int engines_command(const std::string& action, const Arguments& args);
int config_command(const std::string& action, const Arguments& args);
int versions_command(const std::string& action, const Arguments& args);
int contract_command(const std::string& action, const Arguments& args);
int lua_command(const std::string& action, const Arguments& args);
int pools_command(const std::string& action, const Arguments& args);
int environments_command(const std::string& action, const Arguments& args);
int audit_command(const std::string& action, const Arguments& args);
int eval_command(const std::string& action, const Arguments& args);

// A configuration diff (engines/config_diff.hpp) as one line per change, Lua lines under theirs.
void print_diff(const boost::json::object& diff);

}  // namespace engined::cli
