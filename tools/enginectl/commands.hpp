// enginectl — the operator's and integrator's command line. Each command family lives in its
// own file; all share this small argument reader.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

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

private:
    std::map<std::string, std::string> options_;
    std::vector<std::string> positional_;
};

int keys_command(const std::string& action, const Arguments& args);
int runs_command(const std::string& action, const Arguments& args);

}  // namespace engined::cli
