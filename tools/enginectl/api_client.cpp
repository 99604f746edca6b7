#include "api_client.hpp"

#include <boost/json.hpp>

#include <boost/system/system_error.hpp>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace engined::cli {
namespace {

struct Endpoint {
    std::string host;
    uint16_t port = 0;
};

Endpoint parse_url(const std::string& url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0)
        throw UsageError("--url must start with http:// (got '" + url + "')");
    std::string rest = url.substr(scheme.size());
    rest = rest.substr(0, rest.find('/'));
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) return {rest, 80};
    const std::string port_text = rest.substr(colon + 1);
    uint16_t port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        colon == 0) {
        throw UsageError("--url must be http://HOST[:PORT] with a port from 1 to 65535 (got '" +
                         url + "')");
    }
    return {rest.substr(0, colon), port};
}

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

std::string string_at(const boost::json::object& object, const char* name) {
    const auto* value = object.if_contains(name);
    return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

// The error envelope {"error": {"code", "message", "details": [{"pointer", "message"}]}} as
// lines a person reads; anything else (a proxy's page, say) is shown raw with its status.
std::string describe_failure(const http::ClientResponse& response) {
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(response.body, ec);
    const auto* error = !ec && doc.is_object() ? doc.get_object().if_contains("error") : nullptr;
    if (error == nullptr || !error->is_object()) {
        return "HTTP " + std::to_string(response.status) + ": " + response.body;
    }
    const auto& fields = error->get_object();
    std::string text = string_at(fields, "code") + ": " + string_at(fields, "message");
    if (const auto* details = fields.if_contains("details"); details && details->is_array()) {
        for (const auto& detail : details->get_array()) {
            if (!detail.is_object()) continue;
            text += "\n  " + string_at(detail.get_object(), "pointer") + ": " +
                    string_at(detail.get_object(), "message");
        }
    }
    return text;
}

}  // namespace

ApiClient::ApiClient(const Arguments& args)
    : key_(args.optional("key", env_or("ENGINED_KEY", env_or("ENGINED_API_KEY", "")))),
      url_(args.optional("url", env_or("ENGINED_URL", "http://127.0.0.1:8080"))),
      client_([this] {
          const Endpoint endpoint = parse_url(url_);
          return http::Client(endpoint.host, endpoint.port);
      }()) {
    if (key_.empty()) throw UsageError("no API key: pass --key or set ENGINED_KEY");
}

http::ClientResponse ApiClient::send(const std::string& method, const std::string& target,
                                     const std::string& body) {
    http::ClientResponse response;
    try {
        response = client_.request(method, target, body, {{"Authorization", "Bearer " + key_}});
    } catch (const boost::system::system_error& error) {
        // The code's own words: what() appends Boost's source location, which tells a user nothing.
        throw std::runtime_error("cannot reach engined at " + url_ + ": " + error.code().message());
    }
    if (response.status >= 400) throw std::runtime_error(describe_failure(response));
    return response;
}

boost::json::object ApiClient::call(const std::string& method, const std::string& target,
                                    const std::string& body) {
    const http::ClientResponse response = send(method, target, body);
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(response.body, ec);
    if (ec || !doc.is_object()) {
        throw std::runtime_error(
            "HTTP " + std::to_string(response.status) +
            " answered with something other than a JSON object: " + response.body);
    }
    return doc.get_object();
}

std::string ApiClient::fetch(const std::string& target) {
    return send("GET", target, {}).body;
}

std::string url_component(const std::string& text) {
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            char escaped[4];
            std::snprintf(escaped, sizeof escaped, "%%%02X", c);
            out += escaped;
        }
    }
    return out;
}

}  // namespace engined::cli
