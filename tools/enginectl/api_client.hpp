// The HTTP API of a running engined as every server command sees it: where it is, which key
// to send, and an API error turned into one readable failure.
#pragma once

#include "commands.hpp"

#include "http/client.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

namespace engined::cli {

class ApiClient {
public:
    // Reads --url and --key (with their environment defaults); UsageError when no key is set.
    explicit ApiClient(const Arguments& args);

    // The JSON object the API answered. Throws std::runtime_error "<code>: <message>" (one line
    // per detail after it) when the API answered with an error.
    boost::json::object call(const std::string& method, const std::string& target,
                             const std::string& body = {});

    // The body exactly as sent (release bundles, contract.md); errors as for call().
    std::string fetch(const std::string& target);

private:
    http::ClientResponse send(const std::string& method, const std::string& target,
                              const std::string& body);

    std::string key_;
    std::string url_;
    http::Client client_;
};

// `text` percent-encoded for a path segment or query value: whatever the user typed stays one
// segment of the target.
std::string url_component(const std::string& text);

}  // namespace engined::cli
