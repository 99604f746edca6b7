// enginectl engines: list an organisation's engines, create one (from its type's preset, or as
// a copy of another engine, e.g. a read-only built-in one), archive one (after confirmation)
// and take it back into service.
#include "commands.hpp"

#include "api_client.hpp"
#include "table.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <iostream>
#include <string>

namespace engined::cli {
namespace {

// Archiving refuses the engine's new runs at once: asked on a terminal, refused elsewhere
// without --yes, so a script never archives by accident.
bool archive_confirmed(const std::string& slug, const Arguments& args) {
    if (args.has("yes")) return true;
    if (::isatty(STDIN_FILENO) == 0) {
        throw UsageError("archiving engine " + slug +
                         " refuses its new runs: pass --yes to confirm (stdin is not a terminal)");
    }
    std::cerr << "archive engine " << slug
              << "? its new runs will be refused until it is unarchived [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

std::vector<CommandSpec> engines_actions() {
    const OptionSpec label{"label", "LABEL", "the engine's display name"};
    const OptionSpec description{"description", "TEXT", "what the engine is for"};
    return {
        server_action_spec("engines", "list",
                           "list the organisation's engines and the built-in ones",
                           {json_switch()}),
        server_action_spec(
            "engines", "create", "create an engine configured from its type's preset",
            {{"slug", "SLUG", "the new engine's slug", ValueKind::kText, {}, true},
             {"label", "LABEL", "the engine's display name", ValueKind::kText, {}, true},
             {"type", "ENGINE_TYPE", "the engine type, e.g. placement", ValueKind::kText, {}, true},
             description,
             json_switch()}),
        server_action_spec(
            "engines", "copy",
            "create an engine of your organisation starting from SOURCE (e.g. the read-only "
            "built-in default)",
            {{"slug", "SLUG", "the new engine's slug", ValueKind::kText, {}, true},
             {"version", "PIN", "start from this release of SOURCE (default: its draft)"},
             label,
             description,
             json_switch()},
            {{"SOURCE", "the engine to copy"}}),
        server_action_spec(
            "engines", "archive",
            "archive an engine; it accepts no new runs (asks first; --yes when not a terminal)",
            {{"yes", "", "archive without asking"}, json_switch()},
            {{"SLUG", "the engine to archive"}}),
        server_action_spec("engines", "unarchive",
                           "take an archived engine back into service; it accepts runs again",
                           {json_switch()}, {{"SLUG", "the engine to unarchive"}}),
    };
}

int engines_command(const std::string& action, const Arguments& args) {
    if (action == "list") {
        ApiClient api(args);
        const auto listed = api.call("GET", "/api/v1/engines");
        if (args.has("json")) {
            print_json(listed);
            return 0;
        }
        std::vector<TableRow> rows;
        for (const auto& engine : listed.at("data").as_array()) {
            const auto& e = engine.as_object();
            const bool built_in = e.at("built_in").as_bool();
            rows.push_back({cell_text(e.if_contains("slug")),
                            cell_text(e.if_contains("engine_type")),
                            cell_text(e.if_contains("status")), built_in ? "yes" : "no",
                            cell_text(e.if_contains("label"))});
        }
        std::cout << render_table({"SLUG", "TYPE", "STATUS", "BUILT-IN", "LABEL"}, rows);
        return 0;
    }
    if (action == "create") {
        boost::json::object body{{"slug", args.required("slug")},
                                 {"label", args.required("label")},
                                 {"engine_type", args.required("type")}};
        if (args.has("description")) body["description"] = args.required("description");
        ApiClient api(args);
        const auto engine = api.call("POST", "/api/v1/engines", boost::json::serialize(body));
        if (args.has("json")) {
            print_json(engine);
            return 0;
        }
        std::cout << "created engine " << cell_text(engine.if_contains("slug")) << " ("
                  << cell_text(engine.if_contains("engine_type"))
                  << "), configured from its preset\n";
        return 0;
    }
    if (action == "copy") {
        const std::string source = args.positional()[0];
        boost::json::object body{{"slug", args.required("slug")}, {"copy_from", source}};
        if (args.has("version")) body["copy_from_version"] = args.required("version");
        if (args.has("label")) body["label"] = args.required("label");
        if (args.has("description")) body["description"] = args.required("description");
        ApiClient api(args);
        const auto engine = api.call("POST", "/api/v1/engines", boost::json::serialize(body));
        if (args.has("json")) {
            print_json(engine);
            return 0;
        }
        std::cout << "created engine " << cell_text(engine.if_contains("slug")) << " ("
                  << cell_text(engine.if_contains("engine_type")) << "), a copy of " << source
                  << (args.has("version") ? " " + args.required("version") : std::string()) << "\n";
        return 0;
    }
    if (action == "archive" || action == "unarchive") {
        const std::string slug = args.positional_exactly(1, "SLUG")[0];
        if (action == "archive" && !archive_confirmed(slug, args)) {
            std::cerr << "engine " << slug << " not archived\n";
            return 1;
        }
        ApiClient api(args);
        const auto engine =
            api.call("POST", "/api/v1/engines/" + url_component(slug) + "/" + action);
        if (args.has("json")) {
            print_json(engine);
            return 0;
        }
        std::cout << action << "d engine " << slug
                  << (action == "archive"
                          ? "; it accepts no new runs (undo: enginectl engines unarchive " + slug +
                                ")\n"
                          : "; it accepts runs again\n");
        return 0;
    }
    throw UsageError("unknown engines action '" + action + "'");
}

}  // namespace engined::cli
