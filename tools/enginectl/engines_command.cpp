// enginectl engines: list an organisation's engines, create one (from its type's preset, or as
// a copy of another engine, e.g. a read-only built-in one), archive one.
#include "commands.hpp"

#include "api_client.hpp"
#include "table.hpp"

#include <boost/json.hpp>

#include <iostream>

namespace engined::cli {

int engines_command(const std::string& action, const Arguments& args) {
    if (action == "list") {
        args.positional_exactly(0, "no positional arguments");
        ApiClient api(args);
        const auto listed = api.call("GET", "/api/v1/engines");
        std::vector<TableRow> rows;
        for (const auto& engine : listed.at("data").as_array()) {
            const auto& e = engine.as_object();
            const bool built_in = e.at("built_in").as_bool();
            rows.push_back({cell_text(e.if_contains("slug")), cell_text(e.if_contains("engine_type")),
                            cell_text(e.if_contains("status")), built_in ? "yes" : "no",
                            cell_text(e.if_contains("label"))});
        }
        std::cout << render_table({"SLUG", "TYPE", "STATUS", "BUILT-IN", "LABEL"}, rows);
        return 0;
    }
    if (action == "create") {
        args.positional_exactly(0, "only options: --slug, --label, --type, --description");
        boost::json::object body{{"slug", args.required("slug")},
                                 {"label", args.required("label")},
                                 {"engine_type", args.required("type")}};
        if (args.has("description")) body["description"] = args.required("description");
        ApiClient api(args);
        const auto engine = api.call("POST", "/api/v1/engines", boost::json::serialize(body));
        std::cout << "created engine " << cell_text(engine.if_contains("slug")) << " ("
                  << cell_text(engine.if_contains("engine_type")) << "), configured from its preset\n";
        return 0;
    }
    if (action == "copy") {
        const std::string source = args.positional_exactly(1, "SOURCE_SLUG (and --slug, optionally --version, --label, --description)")[0];
        boost::json::object body{{"slug", args.required("slug")}, {"copy_from", source}};
        if (args.has("version")) body["copy_from_version"] = args.required("version");
        if (args.has("label")) body["label"] = args.required("label");
        if (args.has("description")) body["description"] = args.required("description");
        ApiClient api(args);
        const auto engine = api.call("POST", "/api/v1/engines", boost::json::serialize(body));
        std::cout << "created engine " << cell_text(engine.if_contains("slug")) << " ("
                  << cell_text(engine.if_contains("engine_type")) << "), a copy of " << source
                  << (args.has("version") ? " " + args.required("version") : std::string()) << "\n";
        return 0;
    }
    if (action == "archive") {
        const std::string slug = args.positional_exactly(1, "SLUG")[0];
        ApiClient api(args);
        api.call("POST", "/api/v1/engines/" + url_component(slug) + "/archive");
        std::cout << "archived engine " << slug << "; it accepts no new runs\n";
        return 0;
    }
    throw UsageError("unknown engines action '" + action + "'");
}

}  // namespace engined::cli
