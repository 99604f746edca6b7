// enginectl config: read an engine's configuration, replace it, or dry-run a candidate.
#include "commands.hpp"

#include "api_client.hpp"

#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <iostream>

namespace engined::cli {
namespace {

std::string config_target(const std::string& slug) { return "/api/v1/engines/" + url_component(slug) + "/config"; }

// The API takes {"config": …}, the shape GET answers with; FILE holds only the object inside.
std::string config_body(const std::string& file) {
    boost::system::error_code ec;
    boost::json::value config = boost::json::parse(read_text_file(file), ec);
    if (ec) throw std::runtime_error(file + " is not JSON: " + ec.message());
    return boost::json::serialize(boost::json::object{{"config", std::move(config)}});
}

}  // namespace

std::vector<CommandSpec> config_actions() {
    const PositionalSpec slug{"SLUG", "the engine"};
    const PositionalSpec file{"FILE", "a JSON file holding the configuration object"};
    return {
        server_action_spec("config", "get", "print the engine's configuration object (JSON either way)",
                           {json_switch()}, {slug}),
        server_action_spec("config", "put", "replace the engine's draft configuration with FILE's", {json_switch()},
                           {slug, file}),
        server_action_spec("config", "validate",
                           "check FILE as the engine's configuration; prints \"valid\" or one \"PATH: message\" "
                           "per problem",
                           {json_switch()}, {slug, file}),
    };
}

int config_command(const std::string& action, const Arguments& args) {
    if (action == "get") {
        const std::string slug = args.positional_exactly(1, "SLUG")[0];
        ApiClient api(args);
        std::cout << pretty_json(api.call("GET", config_target(slug)).at("config"));
        return 0;
    }
    if (action == "put") {
        const auto& positional = args.positional_exactly(2, "SLUG FILE");
        const std::string body = config_body(positional[1]);
        ApiClient api(args);
        const auto saved = api.call("PUT", config_target(positional[0]), body);
        if (args.has("json")) {
            print_json(saved);
            return 0;
        }
        std::cout << "saved the configuration of " << positional[0] << " ("
                  << saved.at("config_hash").as_string().c_str() << "); publish it to make a version\n";
        return 0;
    }
    if (action == "validate") {
        const auto& positional = args.positional_exactly(2, "SLUG FILE");
        const std::string body = config_body(positional[1]);
        ApiClient api(args);
        const auto verdict = api.call("POST", config_target(positional[0]) + "/validate", body);
        if (args.has("json")) {
            print_json(verdict);
            return verdict.at("valid").as_bool() ? 0 : 1;
        }
        if (verdict.at("valid").as_bool()) {
            std::cout << "valid\n";
            return 0;
        }
        for (const auto& error : verdict.at("errors").as_array()) {
            const std::string path(error.at("path").as_string());
            std::cout << (path.empty() ? "(root)" : path) << ": " << error.at("message").as_string().c_str() << "\n";
        }
        return 1;
    }
    throw UsageError("unknown config action '" + action + "'");
}

}  // namespace engined::cli
