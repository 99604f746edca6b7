#include "commands.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>

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

}  // namespace engined::cli

namespace {

constexpr const char* kUsage = R"(usage: enginectl <family> <action> [options]

  keys create  --data-dir DIR --org ORG --env test|live [--scopes runs:write,runs:read,engines:admin]
               prints the new key alone on the last line (it is shown only once)
  keys list    --data-dir DIR [--org ORG]
  keys revoke  --data-dir DIR KEY_ID

  runs submit  [--url URL] [--key KEY] [--engine SLUG] [--engine-version PIN] [--wait] FILE
  runs show    [--url URL] [--key KEY] RUN_ID
  runs wait    [--url URL] [--key KEY] [--timeout SECONDS] RUN_ID

  --url defaults to $ENGINED_URL or http://127.0.0.1:8080; --key to $ENGINED_API_KEY.
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
    try {
        const Arguments rest(std::vector<std::string>(args.begin() + 2, args.end()), {"wait"});
        if (family == "keys") return keys_command(action, rest);
        if (family == "runs") return runs_command(action, rest);
        throw UsageError("unknown command family '" + family + "'");
    } catch (const UsageError& error) {
        std::cerr << "enginectl: " << error.what() << "\n\n" << kUsage;
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "enginectl: " << error.what() << "\n";
        return 1;
    }
}
