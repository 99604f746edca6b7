// PostgreSQL backend: the audit log's chains. Every node appends through the organisation's
// advisory lock, taken in the transaction of the write the record goes with (held to its commit),
// so appends queue on the chain's head and no two records take one position (the UNIQUE
// constraint backs it).
#include "store/postgres/internal.hpp"

#include <limits>

namespace engined::store::postgres {

namespace {

constexpr const char* kLockChain = "SELECT pg_advisory_xact_lock(hashtext('audit_log:' || $1))";

constexpr const char* kChainHead = R"sql(
    SELECT position, mac FROM audit_log WHERE organization = $1 ORDER BY position DESC LIMIT 1
)sql";

constexpr const char* kInsertAudit = R"sql(
    INSERT INTO audit_log (id, organization, position, actor, action, target, before_hash,
                           after_hash, at_ms, previous_mac, mac)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    RETURNING seq
)sql";

constexpr const char* kListAudit =
    ENGINED_SELECT_AUDIT "WHERE organization = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3";
constexpr const char* kAuditChain =
    ENGINED_SELECT_AUDIT "WHERE organization = $1 ORDER BY position";
constexpr const char* kAuditOrganizations =
    "SELECT DISTINCT organization FROM audit_log ORDER BY organization";

}  // namespace

void append_audit_records(Connection& c, AuditAppend* audit) {
    append_audit_chain(
        audit,
        [&c](const std::string& organization) -> std::optional<AuditChainHead> {
            c.exec(kLockChain, {organization}, "append_audit");
            const Result head = c.exec(kChainHead, {organization}, "append_audit");
            if (head.rows() == 0) return std::nullopt;
            return AuditChainHead{head.integer(0, 0), head.text(0, 1)};
        },
        [&c](const AuditRecord& record) {
            return c
                .exec(kInsertAudit,
                      {record.id, record.organization, record.position, record.actor, record.action,
                       record.target, record.before_hash, record.after_hash, record.at_ms,
                       record.previous_mac, record.mac},
                      "append_audit")
                .integer(0, 0);
        });
}

}  // namespace engined::store::postgres

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::postgres.
using namespace postgres;

AuditRecord PostgresStore::append_audit(AuditRecord record, const AuditSeal& seal) {
    AuditAppend audit{{std::move(record)}, seal};
    auto lease = impl_->pool.acquire();
    in_transaction(*lease, "append_audit", [&](Connection& c) { append_audit_records(c, &audit); });
    return std::move(audit.records.front());
}

AuditPage PostgresStore::list_audit(const AuditPageQuery& query) const {
    auto lease = impl_->pool.acquire();
    const Result rows = (*lease).exec(
        kListAudit,
        {query.organization, query.before_seq.value_or(std::numeric_limits<int64_t>::max()),
         static_cast<int64_t>(query.limit) + 1},
        "list_audit");
    AuditPage page;
    for (int i = 0; i < rows.rows(); ++i) page.records.push_back(read_audit(rows.at(i)));
    page.next_before_seq = close_page(page.records, query.limit);
    return page;
}

std::vector<AuditRecord> PostgresStore::audit_chain(std::string_view organization) const {
    auto lease = impl_->pool.acquire();
    const Result rows = (*lease).exec(kAuditChain, {organization}, "audit_chain");
    std::vector<AuditRecord> chain;
    for (int i = 0; i < rows.rows(); ++i) chain.push_back(read_audit(rows.at(i)));
    return chain;
}

std::vector<std::string> PostgresStore::audit_organizations() const {
    auto lease = impl_->pool.acquire();
    const Result rows = (*lease).exec(kAuditOrganizations, "audit_organizations");
    std::vector<std::string> organizations;
    for (int i = 0; i < rows.rows(); ++i) organizations.push_back(rows.text(i, 0));
    return organizations;
}

}  // namespace engined::store
