// enginectl keys: create, list and revoke API keys directly in a server's store.
#include "commands.hpp"

#include "audit/audit_key.hpp"
#include "audit/audit_trail.hpp"
#include "auth/api_keys.hpp"
#include "common/time.hpp"
#include "store/store_url.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

namespace engined::cli {

// The store --store URL names (sqlite:PATH or postgresql://…), else the SQLite store engined serves
// from --data-dir DIR. A mistyped --data-dir must not quietly become a new, empty store that the
// server never reads: only --create-store makes one.
std::unique_ptr<store::Store> open_store(const Arguments& args) {
    if (args.has("store")) return store::open_store(store::parse_store_url(args.required("store")));
    if (!args.has("data-dir"))
        throw UsageError("give --data-dir DIR (the server's data folder) or --store URL");
    const std::filesystem::path data_dir = args.required("data-dir");
    const std::filesystem::path file = data_dir / "engined.sqlite3";
    if (args.has("create-store")) {
        std::filesystem::create_directories(data_dir);
    } else if (!std::filesystem::is_regular_file(file)) {
        throw std::runtime_error(
            "no engined store in " + data_dir.string() + " (" + file.filename().string() +
            " is missing). Start engined with --data-dir " + data_dir.string() +
            " once to create it, or pass --create-store to create it here");
    }
    return store::open_store(store::resolve_store_url("", data_dir));
}

namespace {

std::vector<std::string> split_scopes(const std::string& text) {
    std::vector<std::string> scopes;
    std::stringstream stream(text);
    std::string scope;
    while (std::getline(stream, scope, ',')) {
        if (!scope.empty()) scopes.push_back(scope);
    }
    return scopes;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : ",") + part;
    return out;
}

boost::json::array json_strings(const std::vector<std::string>& items) {
    boost::json::array out;
    for (const auto& item : items) out.emplace_back(item);
    return out;
}

}  // namespace

OptionSpec data_dir_option() {
    return {"data-dir", "DIR", "the server's data folder (holding engined.sqlite3)"};
}

OptionSpec store_option() {
    return {"store", "URL",
            "the store instead of --data-dir: sqlite:PATH or postgresql://USER@HOST:PORT/DB"};
}

OptionSpec audit_key_option() {
    return {"audit-key-file", "FILE",
            "the key the server seals its audit log with (default: audit.key in --data-dir)"};
}

std::string audit_key(const Arguments& args, const std::string& option, bool create) {
    if (args.has(option)) return audit::read_key(args.required(option));
    if (args.has("data-dir")) {
        const std::filesystem::path data_dir = args.required("data-dir");
        // With --store the store lives elsewhere (PostgreSQL): the key may be the folder's first
        // file, so --create-store makes the folder for it.
        if (create && args.has("create-store")) std::filesystem::create_directories(data_dir);
        const auto file = audit::default_key_file(data_dir);
        return create ? audit::read_or_create_key(file) : audit::read_key(file);
    }
    if (const char* file = std::getenv("ENGINED_AUDIT_KEY_FILE");
        file != nullptr && *file != '\0') {
        return audit::read_key(file);
    }
    throw UsageError("give --" + option +
                     " FILE: the key the server seals its audit log with (with --store, the one "
                     "every engined of that store is configured with)");
}

std::unique_ptr<audit::AuditTrail> open_audit_trail(store::Store& store, const Arguments& args) {
    return std::make_unique<audit::AuditTrail>(store, audit_key(args, "audit-key-file", true));
}

std::vector<CommandSpec> keys_actions() {
    return {
        action_spec(
            "keys", "create",
            "create an API key; the key alone is printed last (it is shown only once)",
            {data_dir_option(),
             store_option(),
             {"org", "ORG", "the organisation the key acts for", ValueKind::kText, {}, true},
             {"env",
              "SLUG",
              "the key's environment: test, live or one created with environments create",
              ValueKind::kText,
              {},
              true},
             {"scopes", "LIST", "comma-separated, e.g. runs:write,runs:read,engines:admin"},
             {"rate", "PER_SECOND", "the key's own rate limit (default: the server's)",
              ValueKind::kPositiveNumber},
             {"burst", "N", "the key's own burst (default: the server's)", ValueKind::kCount},
             {"create-store", "", "create the store in DIR when there is none yet"},
             audit_key_option(),
             json_switch()}),
        action_spec("keys", "list", "list API keys",
                    {data_dir_option(),
                     store_option(),
                     {"org", "ORG", "only this organisation's"},
                     json_switch()}),
        action_spec("keys", "revoke", "revoke an API key",
                    {data_dir_option(), store_option(), audit_key_option(), json_switch()},
                    {{"KEY_ID", "the key's id, as keys list shows it"}}),
    };
}

int keys_command(const std::string& action, const Arguments& args) {
    if (action == "create") {
        const std::string organization = args.required("org");
        const std::string environment = args.required("env");
        const auto scopes = split_scopes(args.optional("scopes", ""));
        const auto store = open_store(args);
        const auto rate =
            args.has("rate") ? std::optional<double>(args.number("rate", 0)) : std::nullopt;
        const auto burst =
            args.has("burst")
                ? std::optional<int64_t>(static_cast<int64_t>(args.number("burst", 0)))
                : std::nullopt;
        const auto trail = open_audit_trail(*store, args);
        // The target is the key's id, set when the key is minted.
        store::AuditAppend audit =
            trail->draft({organization, audit::cli_actor(), "key.create", "", "",
                          audit::state_hash(environment + "\n" + join(scopes))});
        const auth::IssuedKey issued =
            auth::issue_key(*store, organization, environment, scopes, rate, burst, &audit);
        trail->logged(audit);
        std::cerr << "created key " << issued.id << " for organisation " << organization << " ("
                  << environment << "); store it now, it is not shown again\n";
        if (args.has("json")) {
            print_json(boost::json::object{{"id", issued.id},
                                           {"key", issued.key},
                                           {"organization", organization},
                                           {"environment", environment},
                                           {"scopes", json_strings(scopes)}});
        } else {
            std::cout << issued.key << "\n";
        }
        return 0;
    }
    if (action == "list") {
        const auto store = open_store(args);
        const auto org =
            args.has("org") ? std::optional<std::string>(args.required("org")) : std::nullopt;
        const auto keys = store->list_api_keys(org);
        if (args.has("json")) {
            boost::json::array data;
            for (const store::ApiKey& key : keys) {
                data.push_back(boost::json::object{
                    {"id", key.id},
                    {"prefix", key.display_prefix},
                    {"organization", key.organization},
                    {"environment", key.environment},
                    {"scopes", json_strings(key.scopes)},
                    {"created_at", format_rfc3339_ms(key.created_at_ms)},
                    {"revoked_at", key.revoked_at_ms
                                       ? boost::json::value(format_rfc3339_ms(*key.revoked_at_ms))
                                       : boost::json::value(nullptr)}});
            }
            print_json(boost::json::object{{"data", std::move(data)}});
            return 0;
        }
        std::cout << "ID                    PREFIX                ORG              ENV             "
                     " SCOPES                         CREATED                   REVOKED\n";
        for (const store::ApiKey& key : keys) {
            char line[512];
            std::snprintf(line, sizeof line, "%-21s %-21s %-16s %-16s %-30s %-25s %s\n",
                          key.id.c_str(), (key.display_prefix + "…").c_str(),
                          key.organization.c_str(), key.environment.c_str(),
                          join(key.scopes).c_str(), format_rfc3339_ms(key.created_at_ms).c_str(),
                          key.revoked_at_ms ? format_rfc3339_ms(*key.revoked_at_ms).c_str() : "-");
            std::cout << line;
        }
        return 0;
    }
    if (action == "revoke") {
        const auto store = open_store(args);
        const auto trail = open_audit_trail(*store, args);
        const std::string& key_id = args.positional()[0];
        std::string organization;
        for (const store::ApiKey& key : store->list_api_keys(std::nullopt)) {
            if (key.id == key_id) organization = key.organization;
        }
        store::AuditAppend audit =
            trail->draft({organization, audit::cli_actor(), "key.revoke", key_id,
                          audit::state_hash("active"), audit::state_hash("revoked")});
        if (!store->revoke_api_key(key_id, now_unix_ms(), &audit)) {
            std::cerr << "enginectl: no active key with id " << key_id << "\n";
            return 1;
        }
        trail->logged(audit);
        if (args.has("json")) {
            print_json(boost::json::object{{"revoked", args.positional()[0]}});
        } else {
            std::cout << "revoked " << args.positional()[0] << "\n";
        }
        return 0;
    }
    throw UsageError("unknown keys action '" + action + "'");
}

}  // namespace engined::cli
