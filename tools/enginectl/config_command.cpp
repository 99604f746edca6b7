// enginectl config: read an engine's configuration, replace it, dry-run a candidate, or diff
// it against a release.
#include "commands.hpp"

#include "api_client.hpp"
#include "table.hpp"

#include "common/json_text.hpp"
#include "engines/config_diff.hpp"

#include <boost/json.hpp>

#include <iostream>

namespace engined::cli {
namespace {

std::string config_target(const std::string& slug) {
    return "/api/v1/engines/" + url_component(slug) + "/config";
}

boost::json::value read_config(const std::string& file) {
    boost::system::error_code ec;
    boost::json::value config = boost::json::parse(read_text_file(file), ec);
    if (ec) throw std::runtime_error(file + " is not JSON: " + ec.message());
    return config;
}

// The API takes {"config": …}, the shape GET answers with; FILE holds only the object inside.
std::string config_body(const std::string& file) {
    return boost::json::serialize(boost::json::object{{"config", read_config(file)}});
}

// One row per run that changed, most changed first, under the aggregate.
void print_preview(const boost::json::object& preview) {
    const auto& summary = preview.at("summary").as_object();
    std::cout << "previewed " << summary.at("runs").to_number<int64_t>() << " runs of "
              << preview.at("engine").as_string().c_str() << " under configuration "
              << preview.at("config_hash").as_string().c_str() << "\n"
              << "top-1 changed: " << summary.at("top1_changed").to_number<int64_t>() << " (share "
              << summary.at("top1_change_share").to_number<double>()
              << "), newly failing: " << summary.at("newly_failing").to_number<int64_t>()
              << ", newly degraded: " << summary.at("newly_degraded").to_number<int64_t>()
              << ", mean Kendall tau (top "
              << "10): " << summary.at("mean_kendall_tau").to_number<double>() << "\n";
    std::vector<TableRow> rows;
    for (const auto& entry : summary.at("most_changed").as_array()) {
        const auto& run = entry.as_object();
        rows.push_back({cell_text(run.if_contains("run_id")),
                        cell_text(run.if_contains("status_before")) + " -> " +
                            cell_text(run.if_contains("status_after")),
                        run.at("top1_changed").as_bool() ? "yes" : "no",
                        cell_text(run.if_contains("kendall_tau")),
                        cell_text(run.if_contains("overall_level_delta")),
                        "+" + cell_text(run.if_contains("solutions_gained")) + " -" +
                            cell_text(run.if_contains("solutions_lost"))});
    }
    if (rows.empty()) {
        std::cout << "no run changed\n";
        return;
    }
    std::cout << render_table(
        {"RUN", "STATUS", "TOP-1 CHANGED", "KENDALL TAU", "LEVEL DELTA", "SOLUTIONS"}, rows);
}

void print_details(const char* prefix, const boost::json::array& details) {
    for (const auto& detail : details) {
        const std::string path(detail.at("path").as_string());
        std::cout << prefix << (path.empty() ? "(root)" : path) << ": "
                  << detail.at("message").as_string().c_str() << "\n";
    }
}

}  // namespace

void print_diff(const boost::json::object& diff) {
    const auto& changes = diff.at("changes").as_array();
    if (changes.empty()) std::cout << "no differences\n";
    for (const auto& entry : changes) {
        const auto& change = entry.as_object();
        std::cout << "[" << change.at("section").as_string().c_str() << "] "
                  << change.at("pointer").as_string().c_str() << " "
                  << change.at("change").as_string().c_str();
        if (const auto* before = change.if_contains("before"))
            std::cout << " " << boost::json::serialize(*before);
        if (const auto* after = change.if_contains("after"))
            std::cout << " -> " << boost::json::serialize(*after);
        std::cout << "\n";
        for (const char* side : {"lines_removed", "lines_added"}) {
            const auto* lines = change.if_contains(side);
            if (lines == nullptr) continue;
            for (const auto& line : lines->as_array()) {
                std::cout << "    " << (side[6] == 'r' ? "- " : "+ ") << line.as_string().c_str()
                          << "\n";
            }
        }
    }
    if (diff.at("truncated").as_bool()) std::cout << "(more changes not listed)\n";
}

std::vector<CommandSpec> config_actions() {
    const PositionalSpec slug{"SLUG", "the engine"};
    const PositionalSpec file{"FILE", "a JSON file holding the configuration object"};
    return {
        server_action_spec("config", "get",
                           "print the engine's configuration object (JSON either way)",
                           {json_switch()}, {slug}),
        server_action_spec("config", "put", "replace the engine's draft configuration with FILE's",
                           {json_switch()}, {slug, file}),
        server_action_spec(
            "config", "validate",
            "check FILE as the engine's configuration the way runs use it; prints \"valid\" or one "
            "\"PATH: message\" per problem, then warnings",
            {json_switch()}, {slug, file}),
        server_action_spec(
            "config", "preview",
            "re-execute recorded runs under a candidate configuration and print what changed",
            {{"runs", "N", "how many of the newest recorded runs (default 200, at most 1000)",
              ValueKind::kCount},
             {"config", "FILE", "the candidate (default: the current configuration)"},
             json_switch()},
            {slug}),
        server_action_spec(
            "config", "diff",
            "what the current configuration changes against VERSION (default: the newest release)",
            {json_switch()}, {slug, {"VERSION", "a release, e.g. 1.2", true}}),
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
                  << saved.at("config_hash").as_string().c_str()
                  << "); publish it to make a version\n";
        return 0;
    }
    if (action == "validate") {
        const auto& positional = args.positional_exactly(2, "SLUG FILE");
        const std::string body = config_body(positional[1]);
        ApiClient api(args);
        const auto verdict = api.call("POST", config_target(positional[0]) + "/validate", body);
        const bool valid = verdict.at("valid").as_bool();
        if (args.has("json")) {
            print_json(verdict);
            return valid ? 0 : 1;
        }
        if (valid) std::cout << "valid\n";
        print_details("", verdict.at("errors").as_array());
        // Usable, but worth reading: Lua that overrides configured weights.
        if (const auto* warnings = verdict.if_contains("warnings"))
            print_details("warning: ", warnings->as_array());
        return valid ? 0 : 1;
    }
    if (action == "preview") {
        const std::string slug = args.positional_exactly(1, "SLUG")[0];
        boost::json::object body;
        if (args.has("runs")) body["runs"] = static_cast<int64_t>(args.number("runs", 0));
        if (args.has("config")) body["config"] = read_config(args.required("config"));
        ApiClient api(args);
        const auto preview =
            api.call("POST", config_target(slug) + "/preview", boost::json::serialize(body));
        if (args.has("json")) {
            print_json(preview);
        } else {
            print_preview(preview);
        }
        return 0;
    }
    if (action == "diff") {
        const auto& positional = args.positional();
        if (positional.empty() || positional.size() > 2)
            throw UsageError("expected SLUG [VERSION]");
        const std::string& slug = positional[0];
        ApiClient api(args);
        const auto current = api.call("GET", config_target(slug));
        std::string against = positional.size() == 2 ? positional[1] : std::string();
        if (against.empty()) {
            const auto listed =
                api.call("GET", "/api/v1/engines/" + url_component(slug) + "/versions");
            // Listed newest first.
            if (listed.at("data").as_array().empty())
                throw std::runtime_error("engine '" + slug + "' has no release yet");
            against = std::string(listed.at("data").as_array().front().at("version").as_string());
        }
        const auto release = api.call("GET", "/api/v1/engines/" + url_component(slug) +
                                                 "/versions/" + url_component(against));
        const auto diff = engines::config_diff(release.at("config"), current.at("config"));
        if (args.has("json")) {
            print_json(diff);
            return 0;
        }
        std::cout << "current configuration " << current.at("config_hash").as_string().c_str()
                  << " against " << slug << " " << against << "\n";
        print_diff(diff);
        return 0;
    }
    throw UsageError("unknown config action '" + action + "'");
}

}  // namespace engined::cli
