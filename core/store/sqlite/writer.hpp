// core/store/sqlite/writer — the SQLite backend's group-committing writer: the shared
// GroupWriter over the one write connection. Every write pending when it wakes shares one
// transaction and therefore one fsync, which is what makes "durable before 202" affordable.
#pragma once

#include "store/group_writer.hpp"
#include "store/sqlite/connection.hpp"

namespace engined::store::sqlite {

using Writer = GroupWriter<Connection>;
using PendingWrite = Writer::PendingWrite;

}  // namespace engined::store::sqlite
