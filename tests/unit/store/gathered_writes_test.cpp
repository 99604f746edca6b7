// The VFS that gathers a writing connection's writes until its next sync
// (core/store/sqlite/gathered_writes): fewer write calls, and nothing another connection or a
// later open can tell apart from the default VFS's file.
#include "store/sqlite/connection.hpp"
#include "store/sqlite/gathered_writes.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>

#include "store_test_support.hpp"

namespace engined::store::sqlite {
namespace {

constexpr int kRows = 400;
constexpr int kRowBytes = 2000;  // two rows a page: a transaction of kRows writes ~200 pages

// The write system calls this process made so far (/proc/self/io), files and pipes alike.
std::uint64_t write_calls() {
    std::ifstream io("/proc/self/io");
    std::string field;
    std::uint64_t value = 0;
    while (io >> field >> value) {
        if (field == "syscw:") return value;
    }
    ADD_FAILURE() << "no syscw in /proc/self/io";
    return 0;
}

Connection open_wal(const std::string& path, const char* vfs) {
    Connection connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 5000, vfs);
    EXPECT_EQ(connection.pragma("PRAGMA journal_mode = WAL", "wal"), "wal");
    connection.exec("PRAGMA synchronous = FULL", "synchronous");
    connection.exec("PRAGMA wal_autocheckpoint = 0", "no automatic checkpoint");
    connection.exec("CREATE TABLE IF NOT EXISTS rows (n INTEGER PRIMARY KEY, body TEXT)", "table");
    return connection;
}

void insert_rows(Connection& connection, int first, int count) {
    sqlite3_stmt* statement =
        connection.prepared("INSERT INTO rows (n, body) VALUES (?1, ?2)", "insert");
    for (int n = first; n < first + count; ++n) {
        const std::string body(kRowBytes, static_cast<char>('a' + n % 26));
        sqlite3_bind_int(statement, 1, n);
        sqlite3_bind_text(statement, 2, body.data(), static_cast<int>(body.size()),
                          SQLITE_TRANSIENT);
        ASSERT_EQ(sqlite3_step(statement), SQLITE_DONE) << sqlite3_errmsg(connection.get());
        sqlite3_reset(statement);
    }
}

// The rows another connection, on the default VFS, reads: their count and whether each holds
// the body written for it.
std::pair<int, bool> read_back(const std::string& path) {
    Connection reader(path, SQLITE_OPEN_READONLY, 5000);
    sqlite3_stmt* statement = reader.prepared(
        "SELECT count(*), coalesce(sum(length(body) = ?1 AND "
        "substr(body, 1, 1) = char(97 + n % 26)), 0) FROM rows",
        "read back");
    sqlite3_bind_int(statement, 1, kRowBytes);
    EXPECT_EQ(sqlite3_step(statement), SQLITE_ROW);
    const int count = sqlite3_column_int(statement, 0);
    const int whole = sqlite3_column_int(statement, 1);
    sqlite3_reset(statement);
    return {count, count == whole};
}

std::string integrity(const std::string& path) {
    Connection reader(path, SQLITE_OPEN_READONLY, 5000);
    return reader.pragma("PRAGMA integrity_check", "integrity");
}

// A transaction of ~200 pages: the default VFS writes each WAL frame as a header and a page,
// two calls each; the gathering VFS writes them in 64 KiB pieces at the commit's sync.
TEST(GatheredWrites, ACommitReachesTheWalInAFewLargeWrites) {
    TempDir plain_dir;
    TempDir gathered_dir;
    Connection plain = open_wal(plain_dir.db(), nullptr);
    Connection gathered = open_wal(gathered_dir.db(), gathered_writes_vfs());

    std::uint64_t before = write_calls();
    plain.exec("BEGIN", "begin");
    insert_rows(plain, 0, kRows);
    plain.exec("COMMIT", "commit");
    const std::uint64_t plain_calls = write_calls() - before;

    before = write_calls();
    gathered.exec("BEGIN", "begin");
    insert_rows(gathered, 0, kRows);
    gathered.exec("COMMIT", "commit");
    const std::uint64_t gathered_calls = write_calls() - before;

    EXPECT_GE(plain_calls, static_cast<std::uint64_t>(kRows));  // ~200 frames, 2 calls each
    // ~200 frames of 4,120 bytes in 64 KiB pieces: 13 calls.
    EXPECT_LE(gathered_calls, 20u) << "default VFS: " << plain_calls;
    EXPECT_EQ(read_back(gathered_dir.db()), std::make_pair(kRows, true));
}

// What a commit wrote is in the file when the commit returns: another connection reads it, and
// so does a later open after the writer is gone without a checkpoint.
TEST(GatheredWrites, EveryCommitIsInTheFileWhenItReturns) {
    TempDir dir;
    {
        Connection writer = open_wal(dir.db(), gathered_writes_vfs());
        for (int transaction = 0; transaction < 5; ++transaction) {
            writer.exec("BEGIN", "begin");
            insert_rows(writer, transaction * 20, 20);
            writer.exec("COMMIT", "commit");
            EXPECT_EQ(read_back(dir.db()), std::make_pair((transaction + 1) * 20, true));
        }
    }
    EXPECT_EQ(read_back(dir.db()), std::make_pair(100, true));
    EXPECT_EQ(integrity(dir.db()), "ok");
}

// A transaction larger than the page cache spills frames to the WAL before its commit and reads
// them back; one rolled back leaves nothing, and the next commit overwrites its frames.
TEST(GatheredWrites, FramesSpilledBeforeTheCommitAreReadBackAndARollbackLeavesNothing) {
    TempDir dir;
    Connection writer = open_wal(dir.db(), gathered_writes_vfs());
    writer.exec("PRAGMA cache_size = 8", "small cache");

    writer.exec("BEGIN", "begin");
    insert_rows(writer, 0, kRows);
    EXPECT_EQ(writer.pragma("SELECT count(*) FROM rows WHERE length(body) = 2000", "count"),
              std::to_string(kRows));
    writer.exec("ROLLBACK", "rollback");
    EXPECT_EQ(read_back(dir.db()), std::make_pair(0, true));

    writer.exec("BEGIN", "begin");
    insert_rows(writer, 0, kRows);
    writer.exec("UPDATE rows SET body = upper(body) WHERE n % 3 = 0", "rewrite spilled pages");
    writer.exec("UPDATE rows SET body = lower(body) WHERE n % 3 = 0", "and back");
    writer.exec("COMMIT", "commit");
    EXPECT_EQ(read_back(dir.db()), std::make_pair(kRows, true));
    EXPECT_EQ(integrity(dir.db()), "ok");
}

// A checkpoint through the VFS copies every page into the database file before it records
// that it did: after a truncating checkpoint the file alone holds every row.
TEST(GatheredWrites, ACheckpointLeavesEveryPageInTheDatabaseFile) {
    TempDir dir;
    Connection writer = open_wal(dir.db(), gathered_writes_vfs());
    writer.exec("BEGIN", "begin");
    insert_rows(writer, 0, kRows);
    writer.exec("COMMIT", "commit");
    Connection checkpointer(dir.db(), SQLITE_OPEN_READWRITE, 5000, gathered_writes_vfs());
    checkpointer.exec("PRAGMA synchronous = FULL", "synchronous");
    int wal_pages = -1;
    int copied = -1;
    ASSERT_EQ(sqlite3_wal_checkpoint_v2(checkpointer.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                        &wal_pages, &copied),
              SQLITE_OK);
    EXPECT_EQ(copied, wal_pages);
    EXPECT_EQ(fs::file_size(dir.db() + "-wal"), 0u);
    EXPECT_EQ(read_back(dir.db()), std::make_pair(kRows, true));
    EXPECT_EQ(integrity(dir.db()), "ok");
}

// A write the file system refuses (RLIMIT_FSIZE standing in for a full disk) surfaces at the
// commit that needed it: the commit fails, no reader sees its rows, and once there is room the
// next commit succeeds on a whole database.
TEST(GatheredWrites, AWriteRefusedAtTheSyncFailsTheCommitAndLeavesTheDatabaseWhole) {
    TempDir dir;
    Connection writer = open_wal(dir.db(), gathered_writes_vfs());
    writer.exec("BEGIN", "begin");
    insert_rows(writer, 0, 10);
    writer.exec("COMMIT", "commit");

    int committed = SQLITE_OK;
    {
        const FileSizeLimit full_disk(fs::file_size(dir.db() + "-wal") + 16 * 1024);
        writer.exec("BEGIN", "begin");
        insert_rows(writer, 10, 40);  // ~20 pages: past the limit, and all held until the commit
        committed = sqlite3_exec(writer.get(), "COMMIT", nullptr, nullptr, nullptr);
    }

    EXPECT_NE(committed, SQLITE_OK);
    if (sqlite3_get_autocommit(writer.get()) == 0) writer.exec("ROLLBACK", "rollback");
    EXPECT_EQ(read_back(dir.db()), std::make_pair(10, true));
    writer.exec("BEGIN", "begin");
    insert_rows(writer, 10, 40);
    writer.exec("COMMIT", "commit");
    EXPECT_EQ(read_back(dir.db()), std::make_pair(50, true));
    EXPECT_EQ(integrity(dir.db()), "ok");
}

}  // namespace
}  // namespace engined::store::sqlite
