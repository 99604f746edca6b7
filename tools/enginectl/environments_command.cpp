// enginectl environments: create, list, show, pin and delete an organisation's environments
// directly in a server's store, with the rules the API applies (core/environments).
#include "commands.hpp"

#include "audit/audit_trail.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "environments/environment_service.hpp"
#include "store/store.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <iostream>

namespace engined::cli {
namespace {

void print_table(const std::vector<store::Environment>& environments) {
    std::cout << "SLUG              ID                    BUILT-IN  PIN     ENGINE PINS\n";
    for (const store::Environment& environment : environments) {
        char line[512];
        std::snprintf(
            line, sizeof line, "%-17s %-21s %-9s %-7s %s\n", environment.slug.c_str(),
            environment.id.c_str(), environment.built_in ? "yes" : "no",
            environment.pinned_engine_version.value_or("-").c_str(),
            environment.engine_pins_json == "{}" ? "-" : environment.engine_pins_json.c_str());
        std::cout << line;
    }
}

// --version PIN|none and --engine-pins JSON|none as the API's PATCH body.
boost::json::object pin_fields(const Arguments& args) {
    boost::json::object fields;
    if (args.has("version")) {
        const std::string version = args.required("version");
        fields["pinned_engine_version"] =
            version == "none" ? boost::json::value(nullptr) : boost::json::value(version);
    }
    if (args.has("engine-pins")) {
        const std::string pins = args.required("engine-pins");
        boost::system::error_code error;
        fields["engine_pins"] =
            pins == "none" ? boost::json::value(nullptr) : boost::json::parse(pins, error);
        if (error)
            throw UsageError(
                "--engine-pins must be a JSON object such as '{\"home-auto\":\"2.x\"}'");
    }
    if (fields.empty()) throw UsageError("environments pin needs --version and/or --engine-pins");
    return fields;
}

}  // namespace

std::vector<CommandSpec> environments_actions() {
    const OptionSpec org{"org", "ORG", "the organisation", ValueKind::kText, {}, true};
    const PositionalSpec slug{"SLUG", "the environment's slug"};
    return {
        action_spec("environments", "create",
                    "create an environment (1-16 of a-z 0-9 _; at most five besides test and "
                    "live); prints its id",
                    {data_dir_option(), store_option(), org, audit_key_option()}, {slug}),
        action_spec("environments", "list", "list the organisation's environments",
                    {data_dir_option(), store_option(), org, json_switch()}),
        action_spec("environments", "show", "show one environment",
                    {data_dir_option(), store_option(), org, json_switch()}, {slug}),
        action_spec("environments", "pin", "set or clear the environment's default pins",
                    {data_dir_option(),
                     store_option(),
                     org,
                     audit_key_option(),
                     {"version", "PIN",
                      "the default pin of every engine (\"1.x\", \"1.2\"), or none to clear it"},
                     {"engine-pins", "JSON",
                      "per-engine pins such as '{\"home-auto\":\"2.x\"}', or none to clear them"}},
                    {slug}),
        action_spec("environments", "delete",
                    "delete an environment (refused while it has active keys)",
                    {data_dir_option(), store_option(), org, audit_key_option()}, {slug}),
    };
}

int environments_command(const std::string& action, const Arguments& args) {
    const std::string organization = args.required("org");
    const bool json = args.has("json");
    const auto store = open_store(args);
    // An organisation without keys yet has its built-in environments from now on.
    store->ensure_builtin_environments(organization, now_unix_ms());
    if (action == "list") {
        args.positional_exactly(0, "no positional arguments");
        const auto environments = store->list_environments(organization);
        if (json) {
            boost::json::array data;
            for (const auto& environment : environments)
                data.push_back(environments::environment_to_json(environment));
            std::cout << compact_json(boost::json::object{{"data", std::move(data)}}) << "\n";
        } else {
            print_table(environments);
        }
        return 0;
    }
    const std::string slug = args.positional_exactly(1, "SLUG").front();
    if (action == "show") {
        const store::Environment environment =
            environments::find_environment(*store, organization, slug);
        if (json) {
            std::cout << compact_json(environments::environment_to_json(environment)) << "\n";
        } else {
            print_table({environment});
        }
        return 0;
    }
    if (action == "create") {
        const store::Environment environment = environments::create_environment(
            *store, *open_audit_trail(*store, args), audit::cli_actor(), organization, slug);
        std::cerr << "created environment " << slug << " for organisation " << organization
                  << "; mint its keys with: enginectl keys create --env " << slug << "\n";
        std::cout << environment.id << "\n";
        return 0;
    }
    if (action == "pin") {
        print_table(
            {environments::set_pins(*store, *open_audit_trail(*store, args), audit::cli_actor(),
                                    organization, slug, pin_fields(args))});
        return 0;
    }
    if (action == "delete") {
        environments::delete_environment(*store, *open_audit_trail(*store, args),
                                         audit::cli_actor(), organization, slug);
        std::cerr << "deleted environment " << slug << " of organisation " << organization << "\n";
        return 0;
    }
    throw UsageError("unknown environments action '" + action +
                     "' (create, list, show, pin, delete)");
}

}  // namespace engined::cli
