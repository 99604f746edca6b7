#include "audit/audit_trail.hpp"

#include "audit/chain.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace engined::audit {

std::string cli_actor() {
    if (const passwd* user = ::getpwuid(::geteuid()); user != nullptr && user->pw_name != nullptr) {
        return std::string("cli:") + user->pw_name;
    }
    if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') {
        return std::string("cli:") + user;
    }
    return "cli:uid-" + std::to_string(::geteuid());
}

std::string state_hash(std::string_view state) {
    return sha256_hex(state);
}

store::AuditAppend AuditTrail::draft(const Action& action) const {
    return draft(std::vector<Action>{action});
}

store::AuditAppend AuditTrail::draft(const std::vector<Action>& actions) const {
    store::AuditAppend audit;
    const int64_t at_ms = now_unix_ms();
    for (const Action& action : actions) {
        store::AuditRecord record;
        record.id = "aud_" + random_hex(12);
        record.organization = action.organization;
        record.actor = action.actor;
        record.action = action.action;
        record.target = action.target;
        record.before_hash = action.before_hash;
        record.after_hash = action.after_hash;
        record.at_ms = at_ms;
        audit.records.push_back(std::move(record));
    }
    audit.seal = [key = key_](const store::AuditRecord& draft) { return seal(key, draft); };
    return audit;
}

void AuditTrail::logged(const store::AuditAppend& audit) const {
    if (!audit.appended) return;
    for (const store::AuditRecord& stored : audit.records) {
        log::info("audit record appended", {{"organization", stored.organization},
                                            {"audit_id", stored.id},
                                            {"action", stored.action},
                                            {"target", stored.target},
                                            {"position", boost::json::value(stored.position)},
                                            {"head_mac", stored.mac}});
    }
}

store::AuditRecord AuditTrail::record(const Action& action) {
    store::AuditAppend audit = draft(action);
    audit.records.front() = store_.append_audit(std::move(audit.records.front()), audit.seal);
    audit.appended = true;
    logged(audit);
    return audit.records.front();
}

}  // namespace engined::audit
