// enginectl runs: submit a run body, wait for it with progress, show it as a table, and replay
// a finished run to check that it reproduces.
#include "commands.hpp"

#include "api_client.hpp"
#include "run_table.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace engined::cli {
namespace {

bool is_terminal(const boost::json::object& run) {
    const auto status = run.at("status").as_string();
    return status == "completed" || status == "degraded" || status == "failed";
}

// Polls the way the API guide recommends for slow runs, but starts fast: engined usually
// finishes in milliseconds.
boost::json::object wait_for(ApiClient& api, const std::string& run_id, double timeout_s) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    auto delay = std::chrono::milliseconds(5);
    std::string last_status;
    for (;;) {
        boost::json::object run = api.call("GET", "/api/v1/runs/" + url_component(run_id));
        const std::string status(run.at("status").as_string());
        if (status != last_status) {
            std::cerr << "run " << run_id << ": " << status << "\n";
            last_status = status;
        }
        if (is_terminal(run)) return run;
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("run " + run_id + " is still " + status + " after " +
                                     std::to_string(timeout_s) + " s");
        }
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 3 / 2, std::chrono::milliseconds(2000));
    }
}

void show_run(const boost::json::object& run, const Arguments& args) {
    if (args.has("json")) {
        print_json(run);
    } else {
        std::cout << render_run(run);
    }
}

// Prints the finished run; a failed run is the command's failure too.
int show_finished(const boost::json::object& run, const Arguments& args) {
    show_run(run, args);
    return run.at("status").as_string() == "failed" ? 1 : 0;
}

double timeout_of(const Arguments& args) {
    return args.number("timeout", 60);
}

OptionSpec timeout_option() {
    return {"timeout", "SECONDS", "how long to wait for the run to finish (default 60)",
            ValueKind::kPositiveNumber};
}

std::string text_or(const boost::json::value& value, const std::string& fallback) {
    return value.is_string() ? std::string(value.get_string()) : fallback;
}

// The replay report in a few lines; identical is the command's success.
int show_replay(const boost::json::object& report, const Arguments& args) {
    const bool identical = report.at("identical").as_bool();
    if (args.has("json")) {
        print_json(report);
        return identical ? 0 : 1;
    }
    const auto& stored = report.at("fingerprint");
    const std::string replay_fingerprint = text_or(report.at("replay_fingerprint"), "none");
    const char* fingerprint_note = !stored.is_string() ? ""
                                   : stored.get_string() == replay_fingerprint
                                       ? " (same)"
                                       : " (differs: the plugin or engined changed since the run)";
    const auto& digests = report.at("output_sha256").as_object();
    std::cout << "run " << text_or(report.at("run_id"), "?") << ": "
              << (identical ? "identical"
                            : "DIFFERENT, first difference at '" +
                                  text_or(report.at("first_difference"), "") + "'")
              << "\n";
    // Why it differs: recorded under another plugin build, engined version or fingerprint format.
    if (const auto* detail = report.if_contains("verdict_detail"); detail && detail->is_string())
        std::cout << "  verdict             " << detail->get_string() << "\n";
    std::cout << "  fingerprint         " << text_or(stored, "none recorded") << "\n"
              << "  replay fingerprint  " << replay_fingerprint << fingerprint_note << "\n"
              << "  output sha256       " << text_or(digests.at("original"), "") << " (stored)\n"
              << "                      " << text_or(digests.at("replay"), "") << " (replay)\n";
    return identical ? 0 : 1;
}

}  // namespace

std::vector<CommandSpec> runs_actions() {
    const PositionalSpec run_id{"RUN_ID", "the run's id, as submit printed it"};
    return {
        server_action_spec(
            "runs", "submit",
            "submit the run body in FILE; prints the run id, or the finished run with --wait",
            {{"engine", "SLUG", "the engine to run (default: default)"},
             {"engine-version", "PIN", "the engine version to pin, e.g. 1 or 1.2"},
             {"wait", "", "wait for the run to finish and print it"},
             timeout_option(),
             json_switch()},
            {{"FILE", "a JSON file holding the run body"}}),
        server_action_spec("runs", "show", "print a run", {json_switch()}, {run_id}),
        server_action_spec("runs", "get", "print a run (the same as show)", {json_switch()},
                           {run_id}),
        server_action_spec("runs", "wait", "wait for a run to finish and print it",
                           {timeout_option(), json_switch()}, {run_id}),
        server_action_spec(
            "runs", "replay",
            "execute a finished run again, storing nothing, and compare it byte for byte; exit 0 "
            "identical, 1 not",
            {json_switch()}, {run_id}),
    };
}

int runs_command(const std::string& action, const Arguments& args) {
    if (action == "submit") {
        const std::string file = args.positional_exactly(1, "FILE with the run body")[0];
        boost::system::error_code ec;
        boost::json::value body = boost::json::parse(read_text_file(file), ec);
        if (ec || !body.is_object()) {
            throw std::runtime_error(file + " does not hold a JSON object" +
                                     (ec ? ": " + ec.message() : ""));
        }
        if (args.has("engine-version"))
            body.as_object()["engine_version"] = args.required("engine-version");
        ApiClient api(args);
        const std::string engine = args.optional("engine", "default");
        const auto accepted = api.call("POST", "/api/v1/engines/" + url_component(engine) + "/runs",
                                       boost::json::serialize(body));
        const std::string run_id(accepted.at("run_id").as_string());
        std::cerr << "submitted run " << run_id << "\n";
        if (!args.has("wait")) {
            if (args.has("json")) {
                print_json(accepted);
            } else {
                std::cout << run_id << "\n";
            }
            return 0;
        }
        return show_finished(wait_for(api, run_id, timeout_of(args)), args);
    }
    if (action == "show" || action == "get") {
        const std::string run_id = args.positional_exactly(1, "RUN_ID")[0];
        ApiClient api(args);
        show_run(api.call("GET", "/api/v1/runs/" + url_component(run_id)), args);
        return 0;
    }
    if (action == "wait") {
        const std::string run_id = args.positional_exactly(1, "RUN_ID")[0];
        ApiClient api(args);
        return show_finished(wait_for(api, run_id, timeout_of(args)), args);
    }
    if (action == "replay") {
        const std::string run_id = args.positional_exactly(1, "RUN_ID")[0];
        ApiClient api(args);
        return show_replay(api.call("POST", "/api/v1/runs/" + url_component(run_id) + "/replay"),
                           args);
    }
    throw UsageError("unknown runs action '" + action + "'");
}

}  // namespace engined::cli
