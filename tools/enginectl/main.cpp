#include "commands.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

namespace engined::cli {

Arguments::Arguments(const std::vector<std::string>& args, const std::vector<std::string>& switches) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.rfind("--", 0) != 0) {
            positional_.push_back(arg);
            continue;
        }
        const auto eq = arg.find('=');
        if (eq != std::string::npos) {
            options_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
        } else if (std::find(switches.begin(), switches.end(), arg.substr(2)) != switches.end()) {
            options_[arg.substr(2)] = "true";
        } else if (i + 1 < args.size()) {
            options_[arg.substr(2)] = args[++i];
        } else {
            throw UsageError(arg + " needs a value");
        }
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

const std::vector<std::string>& Arguments::positional_exactly(std::size_t count, const std::string& names) const {
    if (positional_.size() != count) throw UsageError("expected " + names);
    return positional_;
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

constexpr const char* kUsage = R"(usage: enginectl <family> <action> [options]

  (keys, environments and pools work on a server's store: --data-dir DIR names the SQLite store
   under DIR; --store URL instead names any store, sqlite:PATH or postgresql://USER@HOST:PORT/DB)

  keys create  --data-dir DIR --org ORG --env SLUG [--scopes runs:write,runs:read,engines:admin,environments:admin]
               (SLUG: test, live or a created environment; the key reads nx_<SLUG>_…)
               [--rate REQUESTS_PER_SECOND --burst N]   (the key's own rate limit; default: the server's)
               prints the new key alone on the last line (it is shown only once)
  keys list    --data-dir DIR [--org ORG]
  keys revoke  --data-dir DIR KEY_ID

  environments create --data-dir DIR --org ORG SLUG    (1-16 of a-z 0-9 _; at most five besides test and live)
  environments list   --data-dir DIR --org ORG [--json]
  environments show   --data-dir DIR --org ORG SLUG [--json]
  environments pin    --data-dir DIR --org ORG SLUG [--version 1.x|none] [--engine-pins '{"ENGINE":"2.x"}'|none]
  environments delete --data-dir DIR --org ORG SLUG    (refused while the environment has active keys)

  pools import --data-dir DIR --org ORG --pool NAME FILE
               FILE is .csv or .json; checked whole before the pool is replaced, else
               "FILE:LINE: message" and nothing changes
  pools list   --data-dir DIR --org ORG
  pools show   --data-dir DIR --org ORG --pool NAME [--limit 20]

  engines list
  engines create     --slug SLUG --label LABEL --type ENGINE_TYPE [--description TEXT]
  engines copy       SOURCE --slug SLUG [--version PIN] [--label LABEL] [--description TEXT]
                     a new engine of your organisation starting from SOURCE (e.g. the
                     read-only built-in `default`), at its release PIN when given
  engines archive    SLUG

  config get         SLUG                  prints the configuration object
  config put         SLUG FILE             FILE holds the configuration object
  config validate    SLUG FILE             prints "valid" or one "PATH: message" per problem

  versions publish   SLUG [--changelog TEXT]
  versions list      SLUG
  versions show      SLUG VERSION
  versions export    SLUG VERSION [--out DIR]   writes DIR/SLUG/VERSION.json (DIR: versions)

  contract show      SLUG [--md] [--version PIN]

  runs submit        [--engine SLUG] [--engine-version PIN] [--wait] [--timeout SECONDS] FILE
  runs show|get      RUN_ID
  runs wait          [--timeout SECONDS] RUN_ID
  runs replay        RUN_ID                executes a finished run again, storing nothing, and
                                           compares it byte for byte; exit 0 identical, 1 not

  Every engines, config, versions, contract and runs command talks to a server and takes
  --url URL (default $ENGINED_URL, else http://127.0.0.1:8080) and
  --key KEY (default $ENGINED_KEY, else $ENGINED_API_KEY).

  lua test           [DIR] [--run PATTERN] [--junit FILE] [--coverage [--min PCT]] [--json]
                                           runs DIR/<engine type>/tests/*.json against
                                           DIR/<engine type>/scorecard.lua (DIR: scripts/lua);
                                           --run keeps the cases whose "FILE: NAME" matches the
                                           regular expression; --coverage lists the lines no case ran
  eval               --config FILE [--engine-type TYPE] [--pool FILE] [--plugins-dir DIR] [--json] INPUT.json
                                           runs the engine plugin in this process on the run body
                                           INPUT.json with the draft configuration FILE (or a
                                           release bundle); no server needed
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace engined::cli;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() < 2 || args[0] == "--help" || args[0] == "help") {
        std::cerr << kUsage;
        return args.empty() ? 2 : (args[0] == "--help" || args[0] == "help" ? 0 : 2);
    }
    const std::string family = args[0];
    const std::string action = args[1];
    const std::vector<std::string> switches{"wait", "md", "json", "coverage"};
    try {
        if (family == "eval") return eval_command(Arguments(std::vector<std::string>(args.begin() + 1, args.end()), switches));
        const Arguments rest(std::vector<std::string>(args.begin() + 2, args.end()), switches);
        if (family == "keys") return keys_command(action, rest);
        if (family == "runs") return runs_command(action, rest);
        if (family == "engines") return engines_command(action, rest);
        if (family == "config") return config_command(action, rest);
        if (family == "versions") return versions_command(action, rest);
        if (family == "contract") return contract_command(action, rest);
        if (family == "lua") return lua_command(action, rest);
        if (family == "pools") return pools_command(action, rest);
        if (family == "environments") return environments_command(action, rest);
        throw UsageError("unknown command family '" + family + "'");
    } catch (const UsageError& error) {
        std::cerr << "enginectl: " << error.what() << "\n\n" << kUsage;
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "enginectl: " << error.what() << "\n";
        return 1;
    }
}
