// enginectl — the operator's and integrator's command line. Each command family lives in its
// own file; all share this small argument reader.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace engined::store {
class Store;
}

namespace engined::cli {

// Thrown for a usage mistake; main prints it with the usage text and exits 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "--name value" / "--name=value" options, "--flag" switches and positional arguments.
class Arguments {
public:
    Arguments(const std::vector<std::string>& args, const std::vector<std::string>& switches);

    std::string required(const std::string& name) const;
    std::string optional(const std::string& name, const std::string& fallback) const;
    bool has(const std::string& name) const { return options_.count(name) > 0; }
    const std::vector<std::string>& positional() const { return positional_; }
    // Exactly as many positional arguments as `names` lists (e.g. "SLUG FILE"), or a UsageError.
    const std::vector<std::string>& positional_exactly(std::size_t count, const std::string& names) const;

private:
    std::map<std::string, std::string> options_;
    std::vector<std::string> positional_;
};

// The store --store URL names (sqlite:PATH or postgresql://…), else that of the server whose data
// directory --data-dir names (created if need be).
std::unique_ptr<store::Store> open_store(const Arguments& args);

// The whole file, or std::runtime_error naming it.
std::string read_text_file(const std::string& path);

int keys_command(const std::string& action, const Arguments& args);
int runs_command(const std::string& action, const Arguments& args);
int engines_command(const std::string& action, const Arguments& args);
int config_command(const std::string& action, const Arguments& args);
int versions_command(const std::string& action, const Arguments& args);
int contract_command(const std::string& action, const Arguments& args);
int lua_command(const std::string& action, const Arguments& args);
int pools_command(const std::string& action, const Arguments& args);
int environments_command(const std::string& action, const Arguments& args);
// enginectl eval: one action, no sub-command.
int eval_command(const Arguments& args);

}  // namespace engined::cli
