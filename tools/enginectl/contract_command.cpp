// enginectl contract: what an engine accepts and answers, as JSON or as the integrator's guide.
#include "commands.hpp"

#include "api_client.hpp"

#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <iostream>

namespace engined::cli {

std::vector<CommandSpec> contract_actions() {
    return {
        server_action_spec(
            "contract", "show",
            "print what the engine accepts and answers (JSON, or the guide with --md)",
            {{"md", "", "the integrator's guide as Markdown instead of JSON"},
             {"version", "PIN", "the contract of this release (default: the draft)"},
             json_switch()},
            {{"SLUG", "the engine"}}),
    };
}

int contract_command(const std::string& action, const Arguments& args) {
    if (action != "show") throw UsageError("unknown contract action '" + action + "'");
    const std::string slug = args.positional()[0];
    const bool markdown = args.has("md");
    if (markdown && args.has("json")) throw UsageError("--md and --json exclude each other");
    std::string target =
        "/api/v1/engines/" + url_component(slug) + (markdown ? "/contract.md" : "/contract");
    if (args.has("version")) target += "?engine_version=" + url_component(args.required("version"));
    ApiClient api(args);
    if (markdown) {
        std::cout << api.fetch(target);
    } else {
        std::cout << pretty_json(api.call("GET", target));
    }
    return 0;
}

}  // namespace engined::cli
