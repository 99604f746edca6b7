// enginectl eval: one run of an engine on an input with a draft configuration, in this process
// and with no server or store, as a rule author checks a change before putting it (like
// `opa eval`). The engine plugin is loaded from the plugins folder and executed with the same
// host services and Lua sandbox as a server run; the scorecard's log(...) lines are captured.
#include "commands.hpp"
#include "engine_plugins.hpp"

#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "lua/sandbox.hpp"
#include "plugin/config_handle.hpp"
#include "plugin/plugin_registry.hpp"
#include "plugin/run_host.hpp"
#include "pools/pool_file.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <variant>

namespace engined::cli {
namespace {

namespace fs = std::filesystem;

// The configuration and the engine type FILE names: a bare configuration object, or a release
// bundle (versions/<slug>/<version>.json) whose "engine" says its type.
struct Draft {
    boost::json::object config;
    std::string engine_type;
};

Draft read_draft(const std::string& path, const std::string& engine_type) {
    boost::json::value doc;
    try {
        doc = boost::json::parse(read_text_file(path));
    } catch (const boost::system::system_error& error) {
        throw std::runtime_error(path + " is not JSON: " + error.code().message());
    }
    if (!doc.is_object()) throw std::runtime_error(path + " must hold a configuration object");
    Draft draft{doc.get_object(), engine_type};
    const auto* bundled = draft.config.if_contains("config");
    if (bundled != nullptr && bundled->is_object()) {
        const auto* engine = draft.config.if_contains("engine");
        const auto* type = engine && engine->is_object()
                               ? engine->get_object().if_contains("engine_type")
                               : nullptr;
        if (draft.engine_type.empty() && type && type->is_string())
            draft.engine_type = std::string(type->get_string());
        draft.config = bundled->get_object();
    }
    if (draft.engine_type.empty()) {
        throw UsageError(
            "say which engine type runs the configuration: --engine-type TYPE (e.g. placement)");
    }
    return draft;
}

// The plugin's own check of the configuration; the problems as "PATH: message" lines.
std::vector<std::string> config_problems(const plugin::LoadedPlugin& plugin,
                                         const std::string& config_json) {
    engined_buffer out{nullptr, 0};
    plugin.descriptor->validate_config(config_json.data(), config_json.size(), &out);
    const std::string text = out.data ? std::string(out.data, out.size) : "{}";
    plugin.descriptor->release_buffer(&out);
    std::vector<std::string> problems;
    boost::system::error_code ec;
    const boost::json::value answer = boost::json::parse(text, ec);
    const auto* errors =
        !ec && answer.is_object() ? answer.get_object().if_contains("errors") : nullptr;
    if (errors == nullptr || !errors->is_array())
        return {"the plugin could not check the configuration"};
    for (const auto& error : errors->get_array()) {
        const auto* fields = error.if_object();
        if (fields == nullptr) continue;
        const auto* path = fields->if_contains("path");
        const auto* message = fields->if_contains("message");
        problems.push_back(
            (path && path->is_string() ? std::string(path->get_string()) : "") + ": " +
            (message && message->is_string() ? std::string(message->get_string()) : ""));
    }
    return problems;
}

// A carrier pool given with --pool FILE, checked as `pools import` checks it and handed to the
// plugin as a server hands a stored pool: the run body names it by content hash.
struct PoolDataset {
    std::string snapshot;
    std::string carriers_json;
};

PoolDataset read_pool(const std::string& path, const plugin::LoadedPlugin& engine) {
    try {
        const std::string carriers = canonical_json(
            pools::parse_pool_file(read_text_file(path), pools::pool_format_for(path), engine));
        return {sha256_hex(carriers), carriers};
    } catch (const pools::PoolFileError& error) {
        throw std::runtime_error(path + ":" + std::to_string(error.line()) + ": " + error.detail());
    } catch (const std::invalid_argument& error) {
        throw std::runtime_error(path + ": " + error.what());
    }
}

// The run body with the pool that `input.pool` names, as the server stores it for the run.
std::string with_pool(boost::json::object body, const PoolDataset& pool) {
    const auto* input = body.if_contains("input");
    const auto* name =
        input && input->is_object() ? input->get_object().if_contains("pool") : nullptr;
    if (name == nullptr || !name->is_string()) {
        throw std::runtime_error(
            "--pool needs a run body whose input names the pool (\"input\": {\"pool\": NAME, "
            "...})");
    }
    const std::size_t size = boost::json::parse(pool.carriers_json).as_array().size();
    body["pool"] = {{"name", *name}, {"snapshot", pool.snapshot}, {"size", size}};
    return boost::json::serialize(body);
}

boost::json::array trace_json(const plugin::RunHost& host) {
    boost::json::array events;
    for (const plugin::TraceEvent& event : host.trace()) {
        boost::system::error_code ec;
        boost::json::value detail = boost::json::parse(event.event_json, ec);
        if (ec) detail = boost::json::string(event.event_json);
        events.push_back({{"stage", event.stage}, {"event", std::move(detail)}});
    }
    return events;
}

struct Evaluation {
    boost::json::object report;  // {"ok", "result" | "error", "log", "trace"}
    bool ok = false;
};

Evaluation evaluate(const plugin::LoadedPlugin& plugin, const Draft& draft,
                    const std::string& request_json, const std::optional<PoolDataset>& pool) {
    const std::string config_json = boost::json::serialize(draft.config);
    Evaluation evaluation;
    std::optional<lua::Sandbox> sandbox;
    const auto* source = draft.config.if_contains("lua_source");
    try {
        if (source != nullptr && source->is_string()) {
            sandbox.emplace(source->get_string(), "scorecard.lua");
            sandbox->begin_run(lua::RunOptions{.capture_log = true});
        }
    } catch (const lua::LuaError& error) {
        evaluation.report = {
            {"ok", false},
            {"error",
             {{"code", std::string("lua_") + std::string(lua::to_string(error.kind()))},
              {"message", error.message()}}}};
        return evaluation;
    }
    plugin::RunHost host(
        sandbox ? &*sandbox : nullptr, now_unix_ms(),
        [&pool](std::string_view kind, std::string_view id) -> std::optional<std::string> {
            if (pool && kind == "pool" && id == pool->snapshot) return pool->carriers_json;
            return std::nullopt;
        });
    auto handle = plugin::ConfigHandle::create(plugin, config_json);
    plugin::PluginOutcome outcome;
    if (auto* prepared = std::get_if<plugin::ConfigHandle>(&handle)) {
        outcome = host.execute(*prepared, request_json);
    } else {
        outcome.failure = std::get<plugin::RunFailure>(handle);
    }
    evaluation.ok = outcome.ok;
    evaluation.report["ok"] = outcome.ok;
    if (outcome.ok) {
        evaluation.report["result"] = boost::json::parse(outcome.result_json);
    } else {
        boost::system::error_code ec;
        boost::json::value details = boost::json::parse(outcome.failure.details_json, ec);
        evaluation.report["error"] = {
            {"code", outcome.failure.code},
            {"message", outcome.failure.message},
            {"details", ec ? boost::json::value(boost::json::array()) : std::move(details)}};
    }
    boost::json::array log;
    if (sandbox) {
        for (const std::string& line : sandbox->run_log().lines)
            log.push_back(boost::json::string(line));
    }
    evaluation.report["log"] = std::move(log);
    evaluation.report["trace"] = trace_json(host);
    return evaluation;
}

}  // namespace

std::vector<CommandSpec> eval_actions() {
    return {
        {"enginectl eval",
         "run the engine plugin in this process on a run body with a draft configuration; no "
         "server needed",
         {{"config",
           "FILE",
           "the draft configuration, or a release bundle",
           ValueKind::kText,
           {},
           true},
          {"engine-type", "TYPE", "the engine type (taken from FILE when it is a release bundle)"},
          {"pool", "FILE", "a carrier pool file for engines that rank a pool"},
          {"plugins-dir", "DIR",
           "the engine plugins' folder (default: $ENGINED_PLUGINS_DIR, else where engined looks)"},
          json_switch()},
         {{"INPUT.json", "the run body"}}}};
}

int eval_command(const std::string&, const Arguments& args) {
    const std::string input_path = args.positional_exactly(1, "INPUT.json (the run body)")[0];
    const Draft draft = read_draft(args.required("config"), args.optional("engine-type", ""));
    std::string request_json = read_text_file(input_path);
    boost::system::error_code ec;
    const boost::json::value body = boost::json::parse(request_json, ec);
    if (ec || !body.is_object()) {
        throw std::runtime_error(
            input_path + " must hold the run body, a JSON object such as {\"input\": {...}}");
    }
    plugin::PluginRegistry registry;
    const plugin::LoadedPlugin& plugin =
        load_plugin(registry, plugins_dir(args), draft.engine_type);
    std::optional<PoolDataset> pool;
    if (args.has("pool")) {
        pool = read_pool(args.required("pool"), plugin);
        request_json = with_pool(body.get_object(), *pool);
    }
    const std::vector<std::string> problems =
        config_problems(plugin, boost::json::serialize(draft.config));
    if (!problems.empty()) {
        if (args.has("json")) {
            boost::json::array listed;
            for (const auto& problem : problems) listed.push_back(boost::json::string(problem));
            std::cout << boost::json::serialize(boost::json::object{
                             {"ok", false}, {"config_errors", std::move(listed)}})
                      << "\n";
        } else {
            std::cerr << "enginectl: the configuration is not valid for " << draft.engine_type
                      << ":\n";
            for (const auto& problem : problems) std::cerr << "  " << problem << "\n";
        }
        return 1;
    }
    const Evaluation evaluation = evaluate(plugin, draft, request_json, pool);
    if (args.has("json")) {
        std::cout << compact_json(evaluation.report) << "\n";
        return evaluation.ok ? 0 : 1;
    }
    for (const auto& line : evaluation.report.at("log").as_array()) {
        std::cerr << "log: " << line.as_string().c_str() << "\n";
    }
    if (evaluation.ok) {
        std::cout << compact_json(evaluation.report.at("result")) << "\n";
        return 0;
    }
    const auto& error = evaluation.report.at("error").as_object();
    std::cerr << "enginectl: the run failed: " << error.at("code").as_string().c_str() << ": "
              << error.at("message").as_string().c_str() << "\n";
    return 1;
}

}  // namespace engined::cli
