// SQLite backend: the audit log's chains. The single writer serialises appends; the chain's head
// is read and the record inserted in the write the record goes with, so no two records take one
// position and no record is stored without its change.
#include "store/sqlite/internal.hpp"

#include <limits>

namespace engined::store::sqlite {

namespace {

constexpr const char* kChainHead = R"sql(
    SELECT position, mac FROM audit_log WHERE organization = ?1 ORDER BY position DESC LIMIT 1
)sql";

constexpr const char* kInsertAudit = R"sql(
    INSERT INTO audit_log (id, organization, position, actor, action, target, before_hash,
                           after_hash, at_ms, previous_mac, mac)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
    RETURNING seq
)sql";

constexpr const char* kListAudit =
    ENGINED_SELECT_AUDIT "WHERE organization = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";
constexpr const char* kAuditChain =
    ENGINED_SELECT_AUDIT "WHERE organization = ?1 ORDER BY position";
constexpr const char* kAuditOrganizations =
    "SELECT DISTINCT organization FROM audit_log ORDER BY organization";

}  // namespace

void append_audit_records(Connection& c, AuditAppend* audit) {
    append_audit_chain(
        audit,
        [&c](const std::string& organization) -> std::optional<AuditChainHead> {
            Query head(c, kChainHead, "append_audit");
            head.bind(1, organization);
            if (!head.next()) return std::nullopt;
            return AuditChainHead{head.integer(0), head.text(1)};
        },
        [&c](const AuditRecord& record) {
            Query insert(c, kInsertAudit, "append_audit");
            insert.bind(1, record.id)
                .bind(2, record.organization)
                .bind(3, record.position)
                .bind(4, record.actor)
                .bind(5, record.action)
                .bind(6, record.target)
                .bind(7, record.before_hash)
                .bind(8, record.after_hash)
                .bind(9, record.at_ms)
                .bind(10, record.previous_mac)
                .bind(11, record.mac);
            return insert.next() ? insert.integer(0) : record.seq;
        });
}

}  // namespace engined::store::sqlite

namespace engined::store {

// The backend's internals (statements, row mapping) live in engined::store::sqlite.
using namespace sqlite;

AuditRecord SqliteStore::append_audit(AuditRecord record, const AuditSeal& seal) {
    AuditAppend audit{{std::move(record)}, seal};
    // The caller waits for the commit, so the lambda may refer to its arguments.
    impl_->writer.write_and_wait([&](Connection& c) { append_audit_records(c, &audit); });
    return std::move(audit.records.front());
}

AuditPage SqliteStore::list_audit(const AuditPageQuery& query) const {
    auto lease = impl_->readers.acquire();
    Query select(*lease, kListAudit, "list_audit");
    select.bind(1, query.organization)
        .bind(2, query.before_seq.value_or(std::numeric_limits<int64_t>::max()))
        .bind(3, static_cast<int64_t>(query.limit) + 1);
    AuditPage page;
    while (select.next()) page.records.push_back(read_audit(select));
    page.next_before_seq = close_page(page.records, query.limit);
    return page;
}

std::vector<AuditRecord> SqliteStore::audit_chain(std::string_view organization) const {
    auto lease = impl_->readers.acquire();
    Query select(*lease, kAuditChain, "audit_chain");
    select.bind(1, organization);
    std::vector<AuditRecord> chain;
    while (select.next()) chain.push_back(read_audit(select));
    return chain;
}

std::vector<std::string> SqliteStore::audit_organizations() const {
    auto lease = impl_->readers.acquire();
    Query select(*lease, kAuditOrganizations, "audit_organizations");
    std::vector<std::string> organizations;
    while (select.next()) organizations.push_back(select.text(0));
    return organizations;
}

}  // namespace engined::store
