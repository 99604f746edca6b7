#include "audit/audit_listing.hpp"

#include "common/paging.hpp"
#include "common/time.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

namespace engined::audit {
namespace {

boost::json::value optional_text(const std::string& text) {
    return text.empty() ? boost::json::value(nullptr) : boost::json::value(text);
}

}  // namespace

boost::json::object audit_record_to_json(const store::AuditRecord& record) {
    return {{"id", record.id},
            {"position", record.position},
            {"actor", record.actor},
            {"action", record.action},
            {"target", record.target},
            {"before_hash", optional_text(record.before_hash)},
            {"after_hash", optional_text(record.after_hash)},
            {"at", format_rfc3339_ms(record.at_ms)},
            {"previous_mac", optional_text(record.previous_mac)},
            {"mac", record.mac}};
}

boost::json::object list_audit_log(const store::Store& store, const std::string& organization,
                                   const std::optional<std::string>& cursor,
                                   const std::optional<std::string>& limit) {
    store::AuditPageQuery query;
    query.organization = organization;
    query.limit = parse_page_limit(limit, kDefaultAuditPageSize, kMaxAuditPageSize);
    if (cursor) query.before_seq = decode_page_cursor(*cursor);
    const store::AuditPage page = store.list_audit(query);
    boost::json::array data;
    for (const store::AuditRecord& record : page.records)
        data.push_back(audit_record_to_json(record));
    return {{"data", std::move(data)},
            {"has_more", page.next_before_seq.has_value()},
            {"next_cursor", page.next_before_seq
                                ? boost::json::value(encode_page_cursor(*page.next_before_seq))
                                : boost::json::value(nullptr)}};
}

}  // namespace engined::audit
