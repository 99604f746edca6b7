// core/audit/audit_listing — the audit log as GET /api/v1/audit-log and `enginectl audit list`
// show it: an organisation's records, newest first, paged with the cursor of run listings.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace engined::audit {

inline constexpr int kDefaultAuditPageSize = 50;
inline constexpr int kMaxAuditPageSize = 200;

// {id, position, actor, action, target, before_hash, after_hash (null when none), at,
//  previous_mac (null for the first), mac}
boost::json::object audit_record_to_json(const store::AuditRecord& record);

// {data: [records], has_more, next_cursor}. ApiError 400 for a bad cursor or limit.
boost::json::object list_audit_log(const store::Store& store, const std::string& organization,
                                   const std::optional<std::string>& cursor,
                                   const std::optional<std::string>& limit);

}  // namespace engined::audit
