// enginectl pools: import pools from CSV or JSON files into a server's store, their records
// canonicalised by the plugin of the engine type that reads them; list pools and show their carriers. Works on the store directly, like `keys`.
#include "commands.hpp"
#include "engine_plugins.hpp"
#include "table.hpp"

#include "audit/audit_trail.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "pools/pool_file.hpp"
#include "store/store.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <iostream>

namespace engined::cli {
namespace {

constexpr std::size_t kShortHash = 12;

std::string pool_name(const Arguments& args) {
    const std::string name = args.required("pool");
    if (!pools::is_pool_name(name)) {
        throw UsageError("--pool '" + name + "' is not 1 to 64 characters of A-Z a-z 0-9 _ . - :");
    }
    return name;
}

boost::json::object pool_json(const store::PoolSummary& pool) {
    return {{"name", pool.name},
            {"carrier_count", pool.carrier_count},
            {"snapshot", pool.snapshot},
            {"imported_at", format_rfc3339_ms(pool.imported_at_ms)},
            {"source", pool.source}};
}

// The whole file is parsed and canonicalised before the store is even opened, so a refused file
// leaves the pool (and the store) exactly as it was.
int import_pool(const Arguments& args) {
    const std::string organization = args.required("org");
    const std::string name = pool_name(args);
    const std::string file = args.positional_exactly(1, "FILE")[0];
    pools::PoolFormat format;
    try {
        format = pools::pool_format_for(file);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    std::error_code unknown_size;  // an unreadable file is reported by the read below
    if (std::filesystem::file_size(file, unknown_size) > pools::kMaxPoolFileBytes &&
        !unknown_size) {
        std::cerr << file << ":1: a pool file holds at most 64 MiB\n";
        return 1;
    }
    // The engine type whose runs read the pool has the word on its records: its plugin
    // canonicalises them.
    const std::string engine_type = args.optional("engine-type", "entity_analysis");
    plugin::PluginRegistry registry;
    const plugin::LoadedPlugin& engine = load_plugin(registry, plugins_dir(args), engine_type);
    boost::json::array carriers;
    try {
        carriers = pools::parse_pool_file(read_text_file(file), format, engine);
    } catch (const pools::PoolFileError& error) {
        std::cerr << file << ":" << error.line() << ": " << error.detail() << "\n";
        return 1;
    } catch (const pools::EngineReadsNoPools& error) {
        throw UsageError(error.what());
    }
    const auto store = open_store(args);
    const auto trail = open_audit_trail(*store, args);
    const std::string source = std::filesystem::path(file).filename().string();
    const auto previous = store->pool_snapshot(organization, name);
    const std::string carriers_json = canonical_json(carriers);
    // The pool's snapshot is the SHA-256 of its canonical carriers (store::PoolSummary).
    store::AuditAppend audit =
        trail->draft({organization, audit::cli_actor(), "pool.import", name,
                      previous ? previous->snapshot : std::string(), sha256_hex(carriers_json)});
    const store::PoolSummary pool =
        store->replace_pool(organization, name, carriers_json, source, now_unix_ms(), &audit);
    trail->logged(audit);
    if (args.has("json")) {
        print_json(pool_json(pool));
        return 0;
    }
    std::cout << "imported " << pool.carrier_count << " carriers into " << pool.name
              << " (snapshot " << pool.snapshot.substr(0, kShortHash) << ")\n";
    return 0;
}

int list_pools(const Arguments& args) {
    const std::string organization = args.required("org");
    const auto store = open_store(args);
    const auto pools = store->list_pools(organization);
    if (args.has("json")) {
        boost::json::array data;
        for (const store::PoolSummary& pool : pools) data.push_back(pool_json(pool));
        print_json(boost::json::object{{"data", std::move(data)}});
        return 0;
    }
    std::vector<TableRow> rows;
    for (const store::PoolSummary& pool : pools) {
        rows.push_back({pool.name, std::to_string(pool.carrier_count),
                        pool.snapshot.substr(0, kShortHash), format_rfc3339_ms(pool.imported_at_ms),
                        pool.source});
    }
    std::cout << render_table({"NAME", "CARRIERS", "SNAPSHOT", "IMPORTED", "SOURCE"}, rows);
    return 0;
}

std::string states_cell(const boost::json::object& carrier) {
    const auto& states = carrier.at("states").as_array();
    if (states.size() == 1 && states[0] == "*") return "*";
    return std::to_string(states.size());
}

// The lines the carrier writes; excluded ones are left out.
std::string lines_cell(const boost::json::object& carrier) {
    std::string out;
    for (const auto& entry : carrier.at("lines").as_array()) {
        if (entry.at("appetite") == "excluded") continue;
        out += (out.empty() ? "" : ",") + std::string(entry.at("line").as_string());
    }
    return out.empty() ? "-" : out;
}

std::size_t limit_of(const Arguments& args) {
    return static_cast<std::size_t>(args.number("limit", 20));
}

int show_pool(const Arguments& args) {
    const std::string organization = args.required("org");
    const std::string name = pool_name(args);
    const std::size_t limit = limit_of(args);
    const auto store = open_store(args);
    const auto pool = store->pool_snapshot(organization, name);
    if (!pool) {
        std::cerr << "enginectl: organisation " << organization << " has no pool named " << name
                  << "\n";
        return 1;
    }
    const auto text = store->pool_carriers(pool->snapshot);
    if (!text)
        throw std::runtime_error("the store has no snapshot " + pool->snapshot + " for pool " +
                                 name);
    const auto carriers = parse_internal_json(*text).as_array();
    if (args.has("json")) {
        boost::json::array shown(carriers.begin(),
                                 carriers.begin() + std::min(limit, carriers.size()));
        boost::json::object answer = pool_json(*pool);
        answer["carriers"] = std::move(shown);
        print_json(answer);
        return 0;
    }
    std::vector<TableRow> rows;
    for (std::size_t i = 0; i < carriers.size() && i < limit; ++i) {
        const auto& carrier = carriers[i].as_object();
        rows.push_back({std::string(carrier.at("id").as_string()),
                        std::string(carrier.at("name").as_string()),
                        cell_text(carrier.if_contains("am_best_rating")), states_cell(carrier),
                        lines_cell(carrier)});
    }
    std::cout << render_table({"ID", "NAME", "RATING", "STATES", "LINES"}, rows);
    if (carriers.size() > limit) {
        std::cout << "(" << limit << " of " << carriers.size()
                  << " carriers; --limit N shows more)\n";
    }
    return 0;
}

}  // namespace

std::vector<CommandSpec> pools_actions() {
    const OptionSpec org{"org", "ORG", "the organisation owning the pool", ValueKind::kText,
                         {},    true};
    const OptionSpec pool{"pool",           "NAME", "the pool, e.g. carriers:all",
                          ValueKind::kText, {},     true};
    return {
        action_spec(
            "pools", "import",
            "replace the pool with FILE (.csv or .json), checked whole first: else \"FILE:LINE: "
            "message\" "
            "and nothing changes",
            {data_dir_option(),
             store_option(),
             org,
             pool,
             {"create-store", "", "create the store in DIR when there is none yet"},
             {"engine-type", "TYPE",
              "the engine type whose plugin reads the records (default entity_analysis)"},
             {"plugins-dir", "DIR", "the engine plugins' folder (default: where engined looks)"},
             audit_key_option(),
             json_switch()},
            {{"FILE", "the carriers, .csv or .json"}}),
        action_spec("pools", "list", "list the organisation's pools",
                    {data_dir_option(), store_option(), org, json_switch()}),
        action_spec("pools", "show", "show a pool's carriers",
                    {data_dir_option(),
                     store_option(),
                     org,
                     pool,
                     {"limit", "N", "show at most N carriers (default 20)", ValueKind::kCount},
                     json_switch()}),
    };
}

int pools_command(const std::string& action, const Arguments& args) {
    if (action == "import") return import_pool(args);
    if (action == "list") return list_pools(args);
    if (action == "show") return show_pool(args);
    throw UsageError("unknown pools action '" + action + "'");
}

}  // namespace engined::cli
