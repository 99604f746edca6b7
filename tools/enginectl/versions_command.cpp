// enginectl versions: publish an engine's configuration as an immutable version, list and show
// versions, export a release bundle into a versions/ tree the server imports at start-up, and
// roll a minor out to a share of the runs pinned "<major>.x" (rollout, promote, abort).
#include "commands.hpp"

#include "api_client.hpp"
#include "table.hpp"

#include "common/json_text.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace engined::cli {
namespace {

std::string versions_target(const std::string& slug) {
    return "/api/v1/engines/" + url_component(slug) + "/versions";
}

double parse_share(const std::string& text) {
    try {
        std::size_t used = 0;
        const double share = std::stod(text, &used);
        if (used == text.size() && share >= 0 && share <= 1) return share;
    } catch (const std::exception&) {}
    throw UsageError("--max-top1-change must be a number from 0 to 1, got '" + text + "'");
}

// A publish's answer, or with `planned` a plan's: the number, the bump, and why a major bump
// happened (the breaking changes between the two contracts); a plan adds its diff.
void print_release(const std::string& slug, const boost::json::object& answer, bool planned) {
    const std::string version(answer.at("version").as_string());
    if (answer.at("already_released").as_bool()) {
        std::cout << slug << " " << version << " already holds the current configuration; "
                  << (planned ? "publishing would mint nothing" : "nothing published") << "\n";
        return;
    }
    std::cout << (planned ? "would publish " : "published ") << slug << " " << version
              << " (bump: " << answer.at("bump").as_string().c_str() << ")";
    if (planned)
        std::cout << " from configuration " << answer.at("config_hash").as_string().c_str();
    std::cout << "\n";
    for (const auto& reason : answer.at("reasons").as_array()) {
        std::cout << "  " << reason.at("pointer").as_string().c_str() << ": "
                  << reason.at("message").as_string().c_str() << "\n";
    }
    if (!planned) return;
    print_diff(answer.at("diff").as_object());
    std::cout << "publish exactly this with --config-hash "
              << answer.at("config_hash").as_string().c_str() << "\n";
}

// The integer given to --percent or --rollout-percent; its range (1-99) is the server's to check.
int64_t parse_percent(const std::string& flag, const std::string& text) {
    int64_t percent = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), percent);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        throw UsageError("--" + flag + " must be a whole number from 1 to 99, got '" + text + "'");
    }
    return percent;
}

// "open 10% from 1.3", "promoted", "aborted" or "" for a version's newest rollout.
std::string rollout_cell(const boost::json::value* rollout) {
    if (rollout == nullptr || !rollout->is_object()) return "";
    const auto& r = rollout->as_object();
    const std::string state(r.at("state").as_string());
    if (state != "open") return state;
    return "open " + std::to_string(r.at("percent").to_number<int64_t>()) + "% from " +
           std::string(r.at("from_version").as_string());
}

void print_rollout(const boost::json::object& rollout) {
    std::cout << rollout.at("engine").as_string().c_str() << " "
              << rollout.at("version").as_string().c_str() << ": rollout "
              << rollout.at("state").as_string().c_str() << ", "
              << rollout.at("percent").to_number<int64_t>() << "% of runs pinned "
              << rollout.at("pin").as_string().c_str()
              << " (the others: " << rollout.at("from_version").as_string().c_str() << ")\n";
}

// Writes the bundle byte-for-byte: its content hash is over this exact text.
std::filesystem::path write_bundle(const std::filesystem::path& out_dir, const std::string& slug,
                                   const std::string& version, const std::string& bundle) {
    const std::filesystem::path folder = out_dir / slug;
    std::filesystem::create_directories(folder);
    const std::filesystem::path file = folder / (version + ".json");
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << bundle;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + file.string());
    return file;
}

}  // namespace

std::vector<CommandSpec> versions_actions() {
    const PositionalSpec slug{"SLUG", "the engine"};
    const PositionalSpec version{"VERSION", "MAJOR.MINOR, e.g. 1.0"};
    return {
        server_action_spec(
            "versions", "publish", "publish the engine's configuration as an immutable version",
            {{"changelog", "TEXT", "what changed, shown in versions list"},
             {"dry-run", "", "print the plan (version, reasons, diff) and publish nothing"},
             {"config-hash", "HASH", "refuse unless HASH is still the current configuration"},
             {"max-top1-change", "SHARE",
              "refuse when a preview changes the top-1 solution of more than SHARE (0-1) of the "
              "runs"},
             {"force", "", "publish past --max-top1-change"},
             {"rollout-percent", "N",
              "publish a new minor straight into a rollout to N% (1-99) of the runs pinned "
              "MAJOR.x"},
             json_switch()},
            {slug}),
        server_action_spec(
            "versions", "rollout",
            "roll VERSION out to N% of the runs pinned MAJOR.x (again: change N); without "
            "--percent, print its rollout",
            {{"percent", "N", "the share of runs, 1-99"}, json_switch()}, {slug, version}),
        server_action_spec("versions", "promote",
                           "give the rolled-out VERSION every run pinned MAJOR.x", {json_switch()},
                           {slug, version}),
        server_action_spec("versions", "abort",
                           "return every run pinned MAJOR.x to the version before VERSION",
                           {json_switch()}, {slug, version}),
        server_action_spec("versions", "list", "list the engine's versions", {json_switch()},
                           {slug}),
        server_action_spec("versions", "show", "print one version (JSON either way)",
                           {json_switch()}, {slug, version}),
        server_action_spec(
            "versions", "export", "write the release bundle to DIR/SLUG/VERSION.json",
            {{"out", "DIR", "where to write (default: versions)"}, json_switch()}, {slug, version}),
    };
}

int versions_command(const std::string& action, const Arguments& args) {
    if (action == "publish") {
        const std::string slug = args.positional_exactly(1, "SLUG")[0];
        ApiClient api(args);
        const bool planned = args.has("dry-run");
        boost::json::object body;
        if (args.has("changelog")) body["changelog"] = args.required("changelog");
        if (args.has("config-hash")) body["config_hash"] = args.required("config-hash");
        if (args.has("max-top1-change"))
            body["max_top1_change"] = parse_share(args.required("max-top1-change"));
        if (args.has("force")) body["force"] = true;
        if (args.has("rollout-percent"))
            body["rollout_percent"] =
                parse_percent("rollout-percent", args.required("rollout-percent"));
        const auto answer =
            planned ? api.call("POST", versions_target(slug) + "/plan")
                    : api.call("POST", versions_target(slug), boost::json::serialize(body));
        if (args.has("json")) {
            print_json(answer);
        } else {
            print_release(slug, answer, planned);
        }
        return 0;
    }
    if (action == "list") {
        const std::string slug = args.positional_exactly(1, "SLUG")[0];
        ApiClient api(args);
        const auto listed = api.call("GET", versions_target(slug));
        if (args.has("json")) {
            print_json(listed);
            return 0;
        }
        std::vector<TableRow> rows;
        for (const auto& release : listed.at("data").as_array()) {
            const auto& r = release.as_object();
            rows.push_back(
                {cell_text(r.if_contains("version")), cell_text(r.if_contains("bump")),
                 cell_text(r.if_contains("released_at")), cell_text(r.if_contains("published_by")),
                 rollout_cell(r.if_contains("rollout")), cell_text(r.if_contains("changelog"))});
        }
        std::cout << render_table(
            {"VERSION", "BUMP", "RELEASED", "PUBLISHED BY", "ROLLOUT", "CHANGELOG"}, rows);
        return 0;
    }
    if (action == "show") {
        const auto& positional = args.positional_exactly(2, "SLUG VERSION");
        ApiClient api(args);
        std::cout << pretty_json(
            api.call("GET", versions_target(positional[0]) + "/" + url_component(positional[1])));
        return 0;
    }
    if (action == "export") {
        const auto& positional = args.positional_exactly(2, "SLUG VERSION");
        ApiClient api(args);
        // The server answers only for an existing engine and an exact "<major>.<minor>", so both
        // are safe as file names by the time they are used.
        const std::string bundle = api.fetch(versions_target(positional[0]) + "/" +
                                             url_component(positional[1]) + "/bundle");
        const std::string file =
            write_bundle(args.optional("out", "versions"), positional[0], positional[1], bundle)
                .string();
        if (args.has("json")) {
            print_json(boost::json::object{{"file", file}});
        } else {
            std::cout << file << "\n";
        }
        return 0;
    }
    if (action == "rollout" || action == "promote" || action == "abort") {
        const auto& positional = args.positional_exactly(2, "SLUG VERSION");
        ApiClient api(args);
        const std::string target =
            versions_target(positional[0]) + "/" + url_component(positional[1]) + "/rollout";
        boost::json::object answer;
        if (action != "rollout") {
            answer = api.call("POST", target + "/" + action);
        } else if (args.has("percent")) {
            const boost::json::object body{
                {"percent", parse_percent("percent", args.required("percent"))}};
            answer = api.call("POST", target, boost::json::serialize(body));
        } else {
            answer = api.call("GET", target);
        }
        if (args.has("json")) {
            print_json(answer);
        } else {
            print_rollout(answer);
        }
        return 0;
    }
    throw UsageError("unknown versions action '" + action + "'");
}

}  // namespace engined::cli
