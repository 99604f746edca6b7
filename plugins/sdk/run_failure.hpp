// A run that cannot produce a result. Stages throw it; the engine turns it into the
// {"code", "message", "details"} body of a failed run.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace engined::plugin_sdk {

class RunFailure : public std::runtime_error {
public:
    RunFailure(std::string code, const std::string& message, boost::json::array details = {})
        : std::runtime_error(message),
          code_(std::move(code)),
          message_(message),
          details_(std::move(details)) {}

    const std::string& code() const noexcept { return code_; }
    // The whole message: what() is a C string and stops at the first NUL a script put in it.
    const std::string& message() const noexcept { return message_; }
    const boost::json::array& details() const noexcept { return details_; }

private:
    std::string code_;
    std::string message_;
    boost::json::array details_;
};

// The body of the failed run: {"code", "message", "details"}.
inline boost::json::object failure_body(const RunFailure& failure) {
    return {
        {"code", failure.code()}, {"message", failure.message()}, {"details", failure.details()}};
}

}  // namespace engined::plugin_sdk
