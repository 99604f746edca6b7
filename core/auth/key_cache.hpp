// core/auth/key_cache — the callers this node authenticated a moment ago, by their key's hash,
// so that the store (a round trip on PostgreSQL, a query and a copy of the key's row on SQLite)
// is asked about each key at most once per time-to-live. The generation is the store's
// `key_revocations` count (store::Store::key_revocations): a revocation through this node makes
// every entry stored before it miss.
#pragma once

#include "auth/principal.hpp"
#include "common/ttl_cache.hpp"

namespace engined::auth {

using KeyCache = TtlCache<Principal>;

}  // namespace engined::auth
