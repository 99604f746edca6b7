// What is wrong with an engine configuration, as validate_config reports it and as config_new
// refuses it: the same problems, so that a configuration the check passes is one the engine
// prepares, and one it refuses fails every run with the problems the check names.
#pragma once

#include "run_failure.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace engined::plugin_sdk {

struct ConfigProblem {
    std::string path;  // JSON Pointer into the configuration
    std::string message;
};

// A configuration that is not a JSON object has this one problem.
inline ConfigProblem not_an_object() {
    return {"", "the configuration must be a JSON object"};
}

// The invalid_config failure for `problems` (at least one): the first in the message, every one
// in the details as {path, message}.
inline RunFailure invalid_config(const std::vector<ConfigProblem>& problems) {
    boost::json::array details;
    for (const ConfigProblem& problem : problems) {
        details.push_back(
            boost::json::object{{"path", problem.path}, {"message", problem.message}});
    }
    const ConfigProblem& first = problems.front();
    return RunFailure("invalid_config",
                      "the engine configuration is invalid: " +
                          (first.path.empty() ? std::string() : first.path + " ") + first.message,
                      std::move(details));
}

}  // namespace engined::plugin_sdk
