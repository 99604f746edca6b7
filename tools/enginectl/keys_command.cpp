// enginectl keys: create, list and revoke API keys directly in a server's store.
#include "commands.hpp"

#include "auth/api_keys.hpp"
#include "common/time.hpp"
#include "store/store_url.hpp"

#include <filesystem>
#include <iostream>
#include <sstream>

namespace engined::cli {

std::unique_ptr<store::Store> open_store(const Arguments& args) {
    if (args.has("store")) return store::open_store(store::parse_store_url(args.required("store")));
    const std::filesystem::path data_dir = args.required("data-dir");
    std::filesystem::create_directories(data_dir);
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

double parse_positive(const std::string& text, const char* option) {
    try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        if (used == text.size() && value > 0) return value;
    } catch (const std::logic_error&) {
    }
    throw UsageError(std::string(option) + " must be a positive number, got '" + text + "'");
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : ",") + part;
    return out;
}

}  // namespace

int keys_command(const std::string& action, const Arguments& args) {
    if (action == "create") {
        const std::string organization = args.required("org");
        const std::string environment = args.required("env");
        const auto scopes = split_scopes(args.optional("scopes", ""));
        const auto store = open_store(args);
        const auto rate = args.has("rate") ? std::optional<double>(parse_positive(args.required("rate"), "--rate"))
                                           : std::nullopt;
        const auto burst = args.has("burst")
                               ? std::optional<int64_t>(static_cast<int64_t>(parse_positive(args.required("burst"), "--burst")))
                               : std::nullopt;
        const auth::IssuedKey issued = auth::issue_key(*store, organization, environment, scopes, rate, burst);
        std::cerr << "created key " << issued.id << " for organisation " << organization << " (" << environment
                  << "); store it now, it is not shown again\n";
        std::cout << issued.key << "\n";
        return 0;
    }
    if (action == "list") {
        const auto store = open_store(args);
        const auto org = args.has("org") ? std::optional<std::string>(args.required("org")) : std::nullopt;
        std::cout << "ID                    PREFIX                ORG              ENV              SCOPES                         CREATED                   REVOKED\n";
        for (const store::ApiKey& key : store->list_api_keys(org)) {
            char line[512];
            std::snprintf(line, sizeof line, "%-21s %-21s %-16s %-16s %-30s %-25s %s\n", key.id.c_str(),
                          (key.display_prefix + "…").c_str(), key.organization.c_str(), key.environment.c_str(),
                          join(key.scopes).c_str(), format_rfc3339_ms(key.created_at_ms).c_str(),
                          key.revoked_at_ms ? format_rfc3339_ms(*key.revoked_at_ms).c_str() : "-");
            std::cout << line;
        }
        return 0;
    }
    if (action == "revoke") {
        if (args.positional().size() != 1) throw UsageError("keys revoke takes one KEY_ID");
        const auto store = open_store(args);
        if (!store->revoke_api_key(args.positional()[0], now_unix_ms())) {
            std::cerr << "enginectl: no active key with id " << args.positional()[0] << "\n";
            return 1;
        }
        std::cout << "revoked " << args.positional()[0] << "\n";
        return 0;
    }
    throw UsageError("unknown keys action '" + action + "'");
}

}  // namespace engined::cli
