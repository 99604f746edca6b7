// A run that cannot produce a result. Stages throw it; the engine turns it into the
// {"code", "message", "details"} body of a failed run.
#pragma once

#include <boost/json/array.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace engined::plugin_sdk {

class RunFailure : public std::runtime_error {
public:
    RunFailure(std::string code, const std::string& message, boost::json::array details = {})
        : std::runtime_error(message), code_(std::move(code)), details_(std::move(details)) {}

    const std::string& code() const noexcept { return code_; }
    const boost::json::array& details() const noexcept { return details_; }

private:
    std::string code_;
    boost::json::array details_;
};

}  // namespace engined::plugin_sdk
