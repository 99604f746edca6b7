// enginectl audit: read the audit log of operator actions straight from a server's store, and
// verify each organisation's chain with the audit key (edited, deleted or re-sealed records,
// and, given a head MAC from the server's log, records deleted from the end).
#include "commands.hpp"

#include "audit/audit_listing.hpp"
#include "audit/chain.hpp"
#include "store/store.hpp"
#include "table.hpp"

#include <boost/json.hpp>

#include <iostream>

namespace engined::cli {
namespace {

int list_audit(const Arguments& args) {
    const auto store = open_store(args);
    const boost::json::object page = audit::list_audit_log(
        *store, args.required("org"),
        args.has("cursor") ? std::optional(args.required("cursor")) : std::nullopt,
        args.has("limit") ? std::optional(args.required("limit")) : std::nullopt);
    if (args.has("json")) {
        print_json(page);
        return 0;
    }
    std::vector<TableRow> rows;
    for (const auto& item : page.at("data").as_array()) {
        const auto& record = item.as_object();
        rows.push_back(
            {std::to_string(record.at("position").as_int64()), cell_text(record.if_contains("at")),
             cell_text(record.if_contains("actor")), cell_text(record.if_contains("action")),
             cell_text(record.if_contains("target")), cell_text(record.if_contains("id"))});
    }
    std::cout << render_table({"#", "AT", "ACTOR", "ACTION", "TARGET", "ID"}, rows);
    if (const auto& next = page.at("next_cursor"); next.is_string()) {
        std::cout << "more: --cursor " << next.as_string().c_str() << "\n";
    }
    return 0;
}

int verify_audit(const Arguments& args) {
    const auto store = open_store(args);
    const std::string key = audit_key(args, "key-file", false);
    const std::vector<std::string> organizations =
        args.has("org") ? std::vector<std::string>{args.required("org")}
                        : store->audit_organizations();
    const std::optional<std::string> head =
        args.has("head") ? std::optional(args.required("head")) : std::nullopt;
    if (head && organizations.size() > 1) {
        throw UsageError("--head is one organisation's logged head MAC: give its --org too");
    }
    bool intact = true;
    boost::json::array verdicts;
    for (const std::string& organization : organizations) {
        const audit::ChainVerdict verdict =
            audit::verify_chain(key, organization, store->audit_chain(organization), head);
        intact = intact && verdict.intact;
        verdicts.push_back(
            {{"organization", verdict.organization},
             {"records", verdict.records},
             {"head_mac", verdict.head_mac},
             {"intact", verdict.intact},
             {"first_bad_record", verdict.first_bad_record.empty()
                                      ? boost::json::value(nullptr)
                                      : boost::json::value(verdict.first_bad_record)},
             {"problem",
              verdict.intact ? boost::json::value(nullptr) : boost::json::value(verdict.problem)}});
        if (args.has("json")) continue;
        if (verdict.intact) {
            std::cout << organization << ": intact, " << verdict.records << " record(s)"
                      << (verdict.head_mac.empty() ? "" : ", head " + verdict.head_mac) << "\n";
        } else {
            std::cout << organization << ": NOT INTACT: " << verdict.problem << "\n";
        }
    }
    if (args.has("json")) {
        print_json(boost::json::object{{"intact", intact}, {"organizations", std::move(verdicts)}});
    } else if (organizations.empty()) {
        std::cout << "no audit records in this store\n";
    }
    return intact ? 0 : 1;
}

}  // namespace

std::vector<CommandSpec> audit_actions() {
    return {
        action_spec("audit", "list", "list an organisation's audit records, newest first",
                    {data_dir_option(),
                     store_option(),
                     {"org", "ORG", "the organisation", ValueKind::kText, {}, true},
                     {"limit", "N", "records per page (default 50, at most 200)"},
                     {"cursor", "CURSOR", "continue after the page that printed it"},
                     json_switch()}),
        action_spec(
            "audit", "verify",
            "recompute each organisation's chain with the audit key; exit 0 when intact, 1 "
            "naming the first record that fails",
            {data_dir_option(),
             store_option(),
             {"org", "ORG", "only this organisation's chain"},
             {"head", "MAC",
              "the last head_mac the server logged: records deleted after it are reported"},
             {"key-file", "FILE",
              "the audit key (default: audit.key in --data-dir, else $ENGINED_AUDIT_KEY_FILE)"},
             json_switch()}),
    };
}

int audit_command(const std::string& action, const Arguments& args) {
    if (action == "list") return list_audit(args);
    if (action == "verify") return verify_audit(args);
    throw UsageError("unknown audit action '" + action + "' (list, verify)");
}

}  // namespace engined::cli
