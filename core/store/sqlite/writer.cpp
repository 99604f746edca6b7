// SQLite backend: the transaction verbs the group writer runs on the write connection, each a
// cached prepared statement.
#include "store/sqlite/writer.hpp"

namespace engined::store::sqlite {

namespace {

constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kSavepoint = "SAVEPOINT write";
constexpr const char* kRelease = "RELEASE write";
constexpr const char* kRollbackToSavepoint = "ROLLBACK TO write";

}  // namespace

void Connection::begin_group() {
    Query(*this, kBegin, "begin transaction").run();
}

void Connection::savepoint() {
    Query(*this, kSavepoint, "savepoint").run();
}

void Connection::release_savepoint() {
    Query(*this, kRelease, "release savepoint").run();
}

void Connection::rollback_to_savepoint() {
    Query(*this, kRollbackToSavepoint, "roll back savepoint").run();
    Query(*this, kRelease, "release savepoint").run();
}

void Connection::commit_group() {
    Query(*this, kCommit, "commit").run();
}

}  // namespace engined::store::sqlite
