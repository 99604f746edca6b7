#include "store/sqlite/connection.hpp"
#include "store/sqlite/delivery_statements.hpp"
#include "store/sqlite/listing_statements.hpp"
#include "store/sqlite/queue_statements.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/writer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/crypto.hpp"
#include "store_test_support.hpp"

namespace engined::store {
namespace {

// Every migration in core/store/sqlite/migrations.cpp, applied in order.
constexpr int kLatestSchemaVersion = 14;
// Every step applied, in order.
constexpr const char* kAppliedMigrations = "1,2,3,4,5,6,7,8,9,10,11,12,13,14";

// A direct connection to the file, to look at it the way the store does not.
class RawDb {
public:
    explicit RawDb(const std::string& path) {
        if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open");
    }
    ~RawDb() { sqlite3_close(db_); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;

    std::string scalar(const std::string& sql) {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sqlite3_errmsg(db_));
        }
        std::string value;
        if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0)) {
            value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
        }
        sqlite3_finalize(statement);
        return value;
    }
    // The details of the statement's query plan, one line per step.
    std::string plan(const std::string& sql) { return explained("EXPLAIN QUERY PLAN ", sql, 3); }
    // The statement's bytecode, one opcode per line.
    std::string opcodes(const std::string& sql) { return explained("EXPLAIN ", sql, 1); }
    int count(const std::string& table) {
        return std::stoi(scalar("SELECT count(*) FROM " + table));
    }
    void exec(const std::string& sql) {
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sqlite3_errmsg(db_));
        }
    }

private:
    // One column of every row that `explain` + `sql` answers, a line each.
    std::string explained(const char* explain, const std::string& sql, int column) {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db_, (explain + sql).c_str(), -1, &statement, nullptr) !=
            SQLITE_OK) {
            throw std::runtime_error(sqlite3_errmsg(db_));
        }
        std::string lines;
        while (sqlite3_step(statement) == SQLITE_ROW) {
            lines += reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
            lines += '\n';
        }
        sqlite3_finalize(statement);
        return lines;
    }

    sqlite3* db_ = nullptr;
};

SqliteOptions options_for(const TempDir& dir) {
    SqliteOptions options;
    options.path = dir.db();
    return options;
}

TEST(RunStatusHelpers, RoundTripAndTerminality) {
    for (RunStatus status : {RunStatus::queued, RunStatus::processing, RunStatus::completed,
                             RunStatus::degraded, RunStatus::failed}) {
        EXPECT_EQ(parse_run_status(to_string(status)), status);
    }
    EXPECT_EQ(to_string(RunStatus::degraded), "degraded");
    EXPECT_EQ(parse_run_status("done"), std::nullopt);
    EXPECT_EQ(parse_run_status("Queued"), std::nullopt);
    EXPECT_FALSE(is_terminal(RunStatus::queued));
    EXPECT_FALSE(is_terminal(RunStatus::processing));
    EXPECT_TRUE(is_terminal(RunStatus::completed));
    EXPECT_TRUE(is_terminal(RunStatus::degraded));
    EXPECT_TRUE(is_terminal(RunStatus::failed));
}

TEST(Store, MigrationsApplyOnceAndDatabaseIsInWalMode) {
    TempDir dir;
    { EXPECT_EQ(SqliteStore(options_for(dir)).schema_version(), kLatestSchemaVersion); }
    std::string first_applied_at;
    {
        RawDb raw(dir.db());
        first_applied_at = raw.scalar("SELECT applied_at_ms FROM schema_migrations");
    }
    {
        SqliteStore reopened(options_for(dir));
        EXPECT_EQ(reopened.schema_version(), kLatestSchemaVersion);
    }
    RawDb raw(dir.db());
    EXPECT_EQ(raw.scalar("SELECT group_concat(version) FROM "
                         "(SELECT version FROM schema_migrations ORDER BY version)"),
              kAppliedMigrations);
    EXPECT_EQ(raw.scalar("SELECT applied_at_ms FROM schema_migrations"), first_applied_at);
    for (const char* table : {"api_keys", "engine_configs", "runs"}) {
        EXPECT_EQ(raw.scalar(std::string("SELECT count(*) FROM sqlite_master WHERE type = "
                                         "'table' AND name = '") +
                             table + "'"),
                  "1")
            << table;
    }
    // The journal mode is stored in the file: a new connection reports it.
    EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
}

// The queue's searches by status walk the partial index of unfinished runs, whose size is the
// backlog, never an index of every run ever stored (queue_statements.hpp): the queue-depth
// count once scanned `runs_listing_by_status` whole, four times a second under load.
TEST(Store, TheQueueStatementsWalkOnlyTheUnfinishedRuns) {
    TempDir dir;
    { SqliteStore create(options_for(dir)); }
    RawDb raw(dir.db());
    for (const char* sql :
         {sqlite::kNextClaimable, sqlite::kReleaseUnstarted, sqlite::kQueueCounts}) {
        const std::string plan = raw.plan(sql);
        EXPECT_NE(plan.find("USING INDEX runs_unfinished"), std::string::npos) << sql << plan;
        EXPECT_EQ(plan.find("runs_listing"), std::string::npos) << sql << plan;
    }
    EXPECT_NE(raw.plan(sqlite::kClaimableById).find("(id=?)"), std::string::npos);
}

// A listing page walks its index backward from the cursor, with no sort; the indexes ascend by
// seq so that a new run's entries go after the newest of their range (migration 13: appending
// there fills one page per commit, inserting before it split a page each time).
TEST(Store, TheListingsWalkTheirAscendingIndexesBackwardWithoutASort) {
    TempDir dir;
    { SqliteStore create(options_for(dir)); }
    RawDb raw(dir.db());
    const std::pair<const char*, const char*> listings[] = {
        {sqlite::kListRuns, "USING INDEX runs_listing ("},
        {sqlite::kListRunsByStatus, "USING INDEX runs_listing_by_status ("}};
    for (const auto& [sql, index] : listings) {
        const std::string plan = raw.plan(sql);
        EXPECT_NE(plan.find(index), std::string::npos) << sql << plan;
        EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << sql << plan;
    }
    for (const char* index : {"runs_listing", "runs_listing_by_status"}) {
        EXPECT_EQ(raw.scalar(std::string("SELECT \"desc\" FROM pragma_index_xinfo('") + index +
                             "') WHERE name = 'seq'"),
                  "0")
            << index;
    }
}

// A sender's lease of the due deliveries builds no temporary table and sorts nothing: it walks
// webhook_deliveries_due in its order and looks each endpoint up by its key
// (delivery_statements.hpp).
TEST(Store, TheDeliveryLeaseBuildsNoTemporaryTable) {
    TempDir dir;
    { SqliteStore create(options_for(dir)); }
    RawDb raw(dir.db());
    for (const char* sql : {sqlite::kDueDeliveries, sqlite::kLeaseDelivery}) {
        const std::string opcodes = raw.opcodes(sql);
        EXPECT_EQ(opcodes.find("OpenEphemeral"), std::string::npos) << sql;
        EXPECT_EQ(opcodes.find("SorterOpen"), std::string::npos) << sql;
    }
    EXPECT_NE(raw.plan(sqlite::kDueDeliveries).find("USING INDEX webhook_deliveries_due"),
              std::string::npos);
}

// A run's and a delivery's status CHECK are evaluated in place: no temporary table of the allowed
// values is built at each insert or status change (migration 14), and the rule still holds.
TEST(Store, TheStatusChecksBuildNoTemporaryTableAndStillRefuseAnUnknownStatus) {
    TempDir dir;
    {
        SqliteStore store(options_for(dir));
        ASSERT_EQ(insert(store, make_run("run-1")), nullptr);
    }
    RawDb raw(dir.db());
    for (const char* sql : {"UPDATE runs SET status = 'completed' WHERE id = 'run-1'",
                            "UPDATE webhook_deliveries SET status = 'delivered' WHERE id = 'd'"}) {
        EXPECT_EQ(raw.opcodes(sql).find("OpenEphemeral"), std::string::npos) << sql;
    }
    for (const char* status : {"queued", "processing", "completed", "degraded", "failed"}) {
        EXPECT_NO_THROW(
            raw.exec(std::string("UPDATE runs SET status = '") + status + "' WHERE id = 'run-1'"));
    }
    try {
        raw.exec("UPDATE runs SET status = 'done' WHERE id = 'run-1'");
        ADD_FAILURE() << "an unknown run status was stored";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("CHECK constraint failed"), std::string::npos)
            << error.what();
    }
    EXPECT_EQ(raw.scalar("PRAGMA integrity_check"), "ok");
}

// SQLite's process-wide count of its memory is off (its mutex was taken at every allocation of
// every connection): a store that opened and wrote leaves the count at zero.
TEST(Store, SqliteKeepsNoProcessWideCountOfItsMemory) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    ASSERT_EQ(insert(store, make_run("run-1")), nullptr);
    ASSERT_TRUE(store.get_run("run-1").has_value());
    EXPECT_EQ(sqlite3_memory_used(), 0);
    EXPECT_EQ(sqlite3_memory_highwater(0), 0);
}

// While more writes wait, the callers of a group are told on another thread: the writer
// commits the next group although a caller of the last one has not returned, and callers are
// still told in commit order.
TEST(Store, TheWriterGoesOnToTheNextGroupWhileTheCallersOfTheLastAreTold) {
    using namespace std::chrono_literals;
    TempDir dir;
    { SqliteStore create(options_for(dir)); }
    std::promise<void> first_applying;
    std::promise<void> second_enqueued;
    std::promise<void> second_applied;
    std::promise<void> first_may_return;
    std::shared_future<void> second_enqueued_seen = second_enqueued.get_future().share();
    std::shared_future<void> first_may_return_seen = first_may_return.get_future().share();
    std::mutex told_mutex;
    std::vector<std::string> told;
    auto tell = [&](const char* who) {
        std::lock_guard lock(told_mutex);
        told.push_back(who);
    };
    {
        sqlite::Writer writer(sqlite::open_writer(options_for(dir)), 512, nullptr);
        writer.enqueue({[&](sqlite::Connection&) {
                            first_applying.set_value();
                            second_enqueued_seen.wait();
                        },
                        [&](std::exception_ptr) {
                            first_may_return_seen.wait();
                            tell("first");
                        }});
        first_applying.get_future().wait();
        writer.enqueue({[&](sqlite::Connection&) { second_applied.set_value(); },
                        [&](std::exception_ptr) { tell("second"); }});
        second_enqueued.set_value();
        EXPECT_EQ(second_applied.get_future().wait_for(10s), std::future_status::ready)
            << "the next group waited for the last group's caller";
        first_may_return.set_value();
    }
    EXPECT_EQ(told, (std::vector<std::string>{"first", "second"}));
}

// The writer copies its WAL back into the database only past kWalCheckpointPages: the WAL
// holds more than SQLite's default 1,000 pages without a checkpoint, and stops growing once
// it passes the interval (the next commit checkpoints and the WAL starts again from its head).
TEST(Store, TheWriterCheckpointsItsWalPastItsIntervalAndNotBefore) {
    TempDir dir;
    { SqliteStore create(options_for(dir)); }
    sqlite::Connection writer = sqlite::open_writer(options_for(dir));
    writer.exec("CREATE TABLE ballast (data BLOB)", "create ballast");
    const auto wal_pages = [&] {
        const auto bytes = std::filesystem::file_size(dir.db() + "-wal");
        return static_cast<long>(bytes / 4096);
    };
    constexpr int kPagesPerInsert = 257;  // 1 MiB of overflow pages and the row's leaf
    constexpr int kBelowInterval = kWalCheckpointPages / kPagesPerInsert - 2;
    for (int i = 0; i < kBelowInterval; ++i) {
        writer.exec("INSERT INTO ballast VALUES (randomblob(1048576))", "insert ballast");
    }
    EXPECT_GE(wal_pages(), kBelowInterval * 256L) << "checkpointed before the interval";
    for (int i = 0; i < kBelowInterval; ++i) {
        writer.exec("INSERT INTO ballast VALUES (randomblob(1048576))", "insert ballast");
    }
    // Twice the interval was written; past it the WAL was reused from its head.
    EXPECT_LE(wal_pages(), kWalCheckpointPages + 2L * kPagesPerInsert);
}

std::string this_thread_name() {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return name;
}

// In the store the WAL is copied back on a thread of its own ("engined-wal"), and commits go on
// while it does: with that thread held inside its checkpoint, runs are still inserted and
// finished, and the writer copies nothing meanwhile. Once the thread is let go, what the commits
// added is copied (by that thread while it is a lot, then by the writer at a commit), and the WAL
// starts over from its head instead of growing.
TEST(Store, TheWalIsCopiedBackOnAThreadOfItsOwnWhileCommitsGoOn) {
    TempDir dir;
    SqliteOptions options = options_for(dir);
    options.wal_checkpoint_pages = 256;
    struct Seen {
        CheckpointThread thread;
        std::string thread_name;
        int wal_pages;
    };
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<Seen> seen;
    bool hold_background = true;
    options.on_checkpoint = [&](const CheckpointDone& done) {
        std::unique_lock lock(mutex);
        seen.push_back({done.thread, this_thread_name(), done.wal_pages});
        changed.notify_all();
        if (done.thread == CheckpointThread::background) {
            changed.wait(lock, [&] { return !hold_background; });
        }
    };
    const auto seen_count = [&](CheckpointThread thread) {
        std::lock_guard lock(mutex);
        return std::count_if(seen.begin(), seen.end(),
                             [thread](const Seen& each) { return each.thread == thread; });
    };
    SqliteStore store(options);
    int runs = 0;
    const auto write_run = [&] {
        const std::string id = "run-" + std::to_string(runs++);
        ASSERT_EQ(insert(store, make_run(id)), nullptr);
        ASSERT_EQ(finish(store, id, completed_outcome()), nullptr);
    };
    while (seen_count(CheckpointThread::background) == 0 && runs < 2000) write_run();
    ASSERT_EQ(seen_count(CheckpointThread::background), 1) << "no checkpoint past the interval";

    // The checkpoint thread is held: the commits do not wait for it.
    const int held_at = runs;
    for (int i = 0; i < 100; ++i) write_run();
    EXPECT_EQ(runs, held_at + 100);
    EXPECT_EQ(seen_count(CheckpointThread::writer), 0) << "the writer checkpointed meanwhile";
    const auto wal_bytes_while_held = std::filesystem::file_size(dir.db() + "-wal");
    EXPECT_GT(wal_bytes_while_held, 2u * 256u * 4096u) << "the WAL should have grown meanwhile";

    {
        std::lock_guard lock(mutex);
        hold_background = false;
    }
    changed.notify_all();
    while (seen_count(CheckpointThread::writer) == 0 && runs < held_at + 3000) write_run();
    ASSERT_GE(seen_count(CheckpointThread::writer), 1) << "the writer never copied the remainder";
    // Started over from its head: the next checkpoint finds fewer frames than the WAL held.
    const std::size_t copied_by_then = [&] {
        std::lock_guard lock(mutex);
        return seen.size();
    }();
    while ([&] {
        std::lock_guard lock(mutex);
        return seen.size() == copied_by_then;
    }() && runs < held_at + 6000) {
        write_run();
    }
    {
        std::lock_guard lock(mutex);
        ASSERT_GT(seen.size(), copied_by_then);
        EXPECT_LT(seen.back().wal_pages, seen[copied_by_then - 1].wal_pages);
    }
    // From now on the WAL is written from its head again: the file no longer grows.
    const auto wal_bytes = std::filesystem::file_size(dir.db() + "-wal");
    for (int i = 0; i < 100; ++i) write_run();
    EXPECT_EQ(std::filesystem::file_size(dir.db() + "-wal"), wal_bytes);
    std::lock_guard lock(mutex);
    for (const Seen& each : seen) {
        EXPECT_EQ(each.thread_name,
                  each.thread == CheckpointThread::background ? "engined-wal" : "engined-writer");
    }
}

// The writes a connection gathers until its next sync (gathered_writes) would, at synchronous =
// NORMAL, where a commit does not sync, be published to other connections before they reach the
// file: at --sync normal the store writes through SQLite's default VFS, and every run it
// committed reads back whole at once on another connection, also after the WAL's checkpoints.
TEST(Store, AtSyncNormalEveryCommitIsReadWholeByAnotherConnectionAtOnce) {
    TempDir dir;
    SqliteOptions options = options_for(dir);
    options.synchronous_full = false;
    options.wal_checkpoint_pages = 64;
    SqliteStore store(options);
    for (int i = 0; i < 200; ++i) {
        NewRun run = make_run("run-" + std::to_string(i));
        run.request_json = R"({"input":{"n":)" + std::to_string(i) + R"(,"pad":")" +
                           std::string(600, 'p') + R"("}})";
        const std::string request = run.request_json;
        ASSERT_EQ(insert(store, std::move(run)), nullptr) << i;
        const auto stored = store.get_run("run-" + std::to_string(i));
        ASSERT_TRUE(stored.has_value()) << i;
        EXPECT_EQ(stored->request_json, request) << i;
    }
}

TEST(Store, ACheckpointIntervalOfNoPagesIsRefused) {
    TempDir dir;
    SqliteOptions options = options_for(dir);
    options.wal_checkpoint_pages = 0;
    EXPECT_THROW(SqliteStore store(options), std::invalid_argument);
    options.wal_checkpoint_pages = 1;
    SqliteStore store(options);
    EXPECT_EQ(insert(store, make_run("run-1")), nullptr);
}

// With preallocate_wal the -wal file has its full size, in blocks the disk holds (zeros, not a
// sparse hole), before the first run is written, and commits overwrite it
// rather than grow it; the last close removes it as SQLite does, and the next open sizes it again.
TEST(Store, APreallocatedWalHasItsFullSizeFromTheStartOfEveryOpen) {
    TempDir dir;
    SqliteOptions options = options_for(dir);
    options.preallocate_wal = true;
    const std::string wal = dir.db() + "-wal";
    const auto allocated_bytes = [&wal] {
        struct stat status {};
        EXPECT_EQ(::stat(wal.c_str(), &status), 0);
        return static_cast<int64_t>(status.st_blocks) * 512;
    };
    int64_t full_size = 0;
    {
        SqliteStore store(options);
        full_size = [&] {
            sqlite::Connection connection(dir.db(), SQLITE_OPEN_READONLY, 1000);
            return sqlite::wal_size_between_checkpoints(connection, kWalCheckpointPages);
        }();
        EXPECT_GE(full_size, int64_t{kWalCheckpointPages} * 4096);
        EXPECT_EQ(static_cast<int64_t>(fs::file_size(wal)), full_size);
        EXPECT_GE(allocated_bytes(), full_size - 4096) << "a sparse file";
        ASSERT_EQ(insert(store, make_run("run-1")), nullptr);
        ASSERT_EQ(finish(store, "run-1", completed_outcome()), nullptr);
        EXPECT_EQ(static_cast<int64_t>(fs::file_size(wal)), full_size) << "the WAL grew";
    }
    EXPECT_FALSE(fs::exists(wal)) << "a WAL left behind would be applied to a restored backup";
    {
        SqliteStore reopened(options);
        EXPECT_EQ(static_cast<int64_t>(fs::file_size(wal)), full_size);
        EXPECT_GE(allocated_bytes(), full_size - 4096);
        const auto run = reopened.get_run("run-1");
        ASSERT_TRUE(run.has_value());
        EXPECT_EQ(run->status, RunStatus::completed);
    }
    // Without it, SQLite's own way: the WAL grows with the commits.
    SqliteStore plain(options_for(dir));
    ASSERT_EQ(insert(plain, make_run("run-2")), nullptr);
    EXPECT_LT(static_cast<int64_t>(fs::file_size(wal)), full_size / 10);
}

// The zeros after the last frame are no frames: a copy taken while the store is open, as a crash
// would leave the files, recovers every committed run and nothing else.
TEST(Store, ACrashWithAPreallocatedWalRecoversEveryCommittedRun) {
    TempDir dir;
    TempDir copy;
    SqliteOptions options = options_for(dir);
    options.preallocate_wal = true;
    {
        SqliteStore store(options);
        for (int i = 0; i < 20; ++i) {
            ASSERT_EQ(insert(store, make_run("run-" + std::to_string(i))), nullptr);
        }
        ASSERT_EQ(finish(store, "run-3", completed_outcome()), nullptr);
        for (const char* suffix : {"", "-wal"}) {
            fs::copy_file(dir.db() + suffix, copy.db() + suffix);
        }
    }
    SqliteStore recovered(options_for(copy));
    for (int i = 0; i < 20; ++i) {
        const auto run = recovered.get_run("run-" + std::to_string(i));
        ASSERT_TRUE(run.has_value()) << i;
        EXPECT_EQ(run->status, i == 3 ? RunStatus::completed : RunStatus::queued) << i;
    }
    EXPECT_FALSE(recovered.get_run("run-20").has_value());
}

// A disk without room for the WAL's zeros refuses the open with a clear error (RLIMIT_FSIZE
// stands in for the full disk, as below) and leaves the database whole: it opens once there is
// room, or with the option off.
TEST(Store, AWalThatCannotBePreallocatedRefusesTheOpenAndLeavesTheDatabaseWhole) {
    TempDir dir;
    {
        SqliteStore store(options_for(dir));
        ASSERT_EQ(insert(store, make_run("run-before")), nullptr);
    }
    SqliteOptions options = options_for(dir);
    options.preallocate_wal = true;
    std::string refusal;
    try {
        const FileSizeLimit full_disk(4 * 1024 * 1024);
        SqliteStore refused(options);
    } catch (const StoreUnavailable& error) {
        refusal = error.what();
    }

    EXPECT_NE(refusal.find("preallocate the WAL: writing zeros failed (is the disk full?)"),
              std::string::npos)
        << refusal;
    SqliteStore reopened(options);
    EXPECT_TRUE(reopened.get_run("run-before").has_value());
    ASSERT_EQ(insert(reopened, make_run("run-after")), nullptr);
}

// A database from before fingerprints: its finished runs read back without one, and runs
// finished after the upgrade keep theirs.
TEST(Store, FingerprintColumnsAreAddedToAnExistingDatabase) {
    TempDir dir;
    {
        SqliteStore store(options_for(dir));
        ASSERT_EQ(insert(store, make_run("run-before")), nullptr);
        RunOutcome outcome = completed_outcome();
        outcome.fingerprint.reset();
        outcome.fingerprint_json.reset();
        ASSERT_EQ(finish(store, "run-before", outcome), nullptr);
    }
    {
        RawDb raw(dir.db());
        raw.exec("ALTER TABLE runs DROP COLUMN fingerprint");
        raw.exec("ALTER TABLE runs DROP COLUMN fingerprint_json");
        raw.exec("DELETE FROM schema_migrations WHERE version = 7");
    }
    SqliteStore upgraded(options_for(dir));
    EXPECT_EQ(upgraded.schema_version(), kLatestSchemaVersion);
    const auto before = upgraded.get_run("run-before");
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(before->status, RunStatus::completed);
    EXPECT_EQ(before->fingerprint, std::nullopt);
    EXPECT_EQ(before->fingerprint_json, std::nullopt);
    ASSERT_EQ(insert(upgraded, make_run("run-after")), nullptr);
    ASSERT_EQ(finish(upgraded, "run-after", completed_outcome()), nullptr);
    EXPECT_EQ(upgraded.get_run("run-after")->fingerprint, completed_outcome().fingerprint);
}

// A store written before named environments: its test and live rows become rows of the
// organisation's built-in environments, each found by that environment's id.
TEST(Store, AStoreFromBeforeEnvironmentsKeepsItsTestAndLiveRows) {
    TempDir dir;
    {
        std::ifstream fixture(std::string(ENGINED_SOURCE_DIR) +
                              "/tests/data/store/schema_v7_with_test_and_live_rows.sql");
        ASSERT_TRUE(fixture.good());
        const std::string sql((std::istreambuf_iterator<char>(fixture)),
                              std::istreambuf_iterator<char>());
        RawDb raw(dir.db());
        raw.exec(sql);
    }
    SqliteStore upgraded(options_for(dir));
    EXPECT_EQ(upgraded.schema_version(), kLatestSchemaVersion);

    const auto environments = upgraded.list_environments("acme");
    ASSERT_EQ(environments.size(), 2u);
    const auto test = upgraded.find_environment("acme", "test");
    const auto live = upgraded.find_environment("acme", "live");
    ASSERT_TRUE(test && live);
    EXPECT_TRUE(test->built_in);
    EXPECT_NE(test->id, live->id);
    EXPECT_TRUE(std::regex_match(
        test->id,
        std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << test->id;

    const auto test_key = upgraded.find_api_key("hash-test-key");
    ASSERT_TRUE(test_key);
    EXPECT_EQ(test_key->environment, "test");
    EXPECT_EQ(test_key->environment_id, test->id);
    EXPECT_EQ(upgraded.find_api_key("hash-live-key")->environment_id, live->id);

    const auto run = upgraded.get_run("run-test");
    ASSERT_TRUE(run);
    EXPECT_EQ(run->environment, "test");
    EXPECT_EQ(run->environment_id, test->id);
    EXPECT_EQ(run->engine_version_pin, "1.x");
    EXPECT_EQ(run->engine_version_pin_source, "request");
    RunPageQuery query;
    query.organization = "acme";
    query.environment_id = live->id;
    query.engine_slug = "default";
    const RunPage page = upgraded.list_runs(query);
    ASSERT_EQ(page.runs.size(), 1u);
    EXPECT_EQ(page.runs.front().id, "run-live");

    EXPECT_TRUE(upgraded.find_idempotency("acme", test->id, "idem-1", 1'700'000'000'005));
    EXPECT_FALSE(upgraded.find_idempotency("acme", live->id, "idem-1", 1'700'000'000'005));
    EXPECT_TRUE(upgraded.find_webhook_endpoint("acme", test->id, "we_test"));
    EXPECT_FALSE(upgraded.find_webhook_endpoint("acme", live->id, "we_test"));
    EXPECT_EQ(upgraded.find_signing_secret("acme", live->id)->secret, "whsec_live");
    EXPECT_FALSE(upgraded.find_signing_secret("acme", test->id));

    // The slug column no longer holds only test or live.
    NewRun named = make_run("run-named", "acme", "dev", "default");
    EXPECT_EQ(insert(upgraded, named), nullptr);
}

Environment named_environment(std::string slug, std::string organization = "org_a") {
    Environment environment;
    environment.id = "env_" + slug + "_" + organization;
    environment.organization = std::move(organization);
    environment.slug = std::move(slug);
    environment.created_at_ms = environment.updated_at_ms = 1'700'000'000'000;
    return environment;
}

TEST(Store, EnvironmentsAreBuiltInOnceAndNamedOnesAreLimited) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    store.ensure_builtin_environments("org_a", 1);
    const std::string test_id = store.find_environment("org_a", "test")->id;
    store.ensure_builtin_environments("org_a", 2);
    EXPECT_EQ(store.find_environment("org_a", "test")->id, test_id) << "built-in ids are stable";
    EXPECT_FALSE(store.find_environment("org_b", "test"));

    for (int i = 0; i < 2; ++i)
        store.insert_environment(named_environment("env" + std::to_string(i)), 2);
    EXPECT_THROW(store.insert_environment(named_environment("env2"), 2), TooManyEnvironments);
    EXPECT_FALSE(store.find_environment("org_a", "env2")) << "the refused insert left nothing";
    Environment duplicate = named_environment("env0");
    duplicate.id = "env_other";
    EXPECT_THROW(store.insert_environment(duplicate, 5), std::invalid_argument);
    EXPECT_EQ(store.list_environments("org_a").size(), 4u);
    EXPECT_EQ(store.list_environments("org_a").front().slug, "test") << "built-in first";
}

TEST(Store, AnEnvironmentWithActiveKeysIsNotDeletedAndARecreatedOneHasANewId) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    store.insert_environment(named_environment("dev"), 5);
    ApiKey key;
    key.id = "key_dev";
    key.organization = "org_a";
    key.environment = "dev";
    key.environment_id = "env_dev_org_a";
    key.scopes = {"runs:read"};
    key.display_prefix = "nx_dev_abcd";
    store.insert_api_key(key, "hash-dev");
    EXPECT_THROW(store.delete_environment("org_a", "dev", 5), EnvironmentHasActiveKeys);
    EXPECT_TRUE(store.find_environment("org_a", "dev"));
    ASSERT_TRUE(store.revoke_api_key("key_dev", 6));
    EXPECT_TRUE(store.delete_environment("org_a", "dev", 7));
    EXPECT_FALSE(store.find_environment("org_a", "dev"));
    EXPECT_FALSE(store.delete_environment("org_a", "dev", 8));

    Environment again = named_environment("dev");
    again.id = "env_dev_again";
    store.insert_environment(again, 5);
    EXPECT_EQ(store.find_environment("org_a", "dev")->id, "env_dev_again");

    Environment pinned = *store.find_environment("org_a", "dev");
    pinned.pinned_engine_version = "1.x";
    pinned.engine_pins_json = R"({"home":"2.x"})";
    ASSERT_TRUE(store.update_environment_pins(pinned));
    EXPECT_EQ(store.find_environment("org_a", "dev")->pinned_engine_version, "1.x");
    key.id = "key_dev2";
    key.environment_id = "env_dev_again";
    store.insert_api_key(key, "hash-dev2");
    const auto found = store.find_api_key("hash-dev2");
    EXPECT_EQ(found->pinned_engine_version, "1.x") << "a key reads its environment's pins with it";
    EXPECT_EQ(found->engine_pins_json, R"({"home":"2.x"})");
}

TEST(Store, InsertedRunReadsBackWithEveryField) {
    TempDir dir;
    SqliteStore store(options_for(dir));

    NewRun full = make_run("run-full", "org_b", "live", "home");
    full.engine_type = "entity-analysis";
    full.engine_version = "1.3";
    full.engine_version_pin = "1.x";
    full.webhook_url = "https://hooks.example.com/a";
    full.created_at_ms = 1'700'000'123'456;
    ASSERT_EQ(insert(store, full), nullptr);
    ASSERT_EQ(insert(store, make_run("run-bare")), nullptr);

    const auto run = store.get_run("run-full");
    ASSERT_TRUE(run.has_value());
    EXPECT_GT(run->seq, 0);
    EXPECT_EQ(run->id, "run-full");
    EXPECT_EQ(run->organization, "org_b");
    EXPECT_EQ(run->environment, "live");
    EXPECT_EQ(run->engine_slug, "home");
    EXPECT_EQ(run->engine_type, "entity-analysis");
    EXPECT_EQ(run->engine_version, "1.3");
    EXPECT_EQ(run->engine_version_pin, "1.x");
    EXPECT_EQ(run->status, RunStatus::queued);
    EXPECT_EQ(run->stage, "queued");
    EXPECT_EQ(run->request_json, full.request_json);
    EXPECT_EQ(run->config_hash, full.config_hash);
    EXPECT_EQ(run->webhook_url, "https://hooks.example.com/a");
    EXPECT_EQ(run->api_key_id, "key_0123456789abcdef");
    EXPECT_EQ(run->output_json, "null");
    EXPECT_EQ(run->results_json, "null");
    EXPECT_EQ(run->error_code, std::nullopt);
    EXPECT_EQ(run->error_message, std::nullopt);
    EXPECT_EQ(run->error_details_json, "null");
    EXPECT_EQ(run->trace_json, "null");
    EXPECT_EQ(run->attempts, 0);
    EXPECT_EQ(run->created_at_ms, 1'700'000'123'456);
    EXPECT_EQ(run->started_at_ms, std::nullopt);
    EXPECT_EQ(run->completed_at_ms, std::nullopt);
    EXPECT_EQ(run->fingerprint, std::nullopt);
    EXPECT_EQ(run->fingerprint_json, std::nullopt);

    const auto bare = store.get_run("run-bare");
    ASSERT_TRUE(bare.has_value());
    EXPECT_GT(bare->seq, run->seq);
    EXPECT_EQ(bare->engine_version, std::nullopt);
    EXPECT_EQ(bare->engine_version_pin, std::nullopt);
    EXPECT_EQ(bare->webhook_url, std::nullopt);

    EXPECT_EQ(store.get_run("run-missing"), std::nullopt);
}

TEST(Store, ConfigIsStoredOncePerHash) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    const NewRun first = make_run("run-1");
    NewRun second = make_run("run-2");
    // Same hash, other text: the hash is the identity, the first text stays.
    second.config_json = R"({"pack_key":"changed"})";
    NewRun other = make_run("run-3");
    other.config_json = R"({"pack_key":"commercial"})";
    other.config_hash = sha256_hex(*other.config_json);

    ASSERT_EQ(insert(store, first), nullptr);
    ASSERT_EQ(insert(store, second), nullptr);
    ASSERT_EQ(insert(store, other), nullptr);

    EXPECT_EQ(store.config_json(first.config_hash), first.config_json);
    EXPECT_EQ(store.config_json(other.config_hash), other.config_json);
    EXPECT_EQ(store.config_json(sha256_hex("unknown")), std::nullopt);
    RawDb raw(dir.db());
    EXPECT_EQ(raw.count("engine_configs"), 2);
}

TEST(Store, LifecycleCountsAttemptsAndRecordsTheOutcome) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    ASSERT_EQ(insert(store, make_run("run-1")), nullptr);

    ASSERT_TRUE(claim(store, "run-1", 1'700'000'000'100));
    auto run = store.get_run("run-1");
    EXPECT_EQ(run->status, RunStatus::processing);
    EXPECT_EQ(run->stage, "processing");
    EXPECT_EQ(run->attempts, 1);
    EXPECT_EQ(run->started_at_ms, 1'700'000'000'100);

    // Claimed again once the lease expired (its node crashed): the attempt is counted, the
    // start moves.
    const int64_t after_lease = 1'700'000'000'101 + kTestLeaseMs;
    ASSERT_TRUE(claim(store, "run-1", after_lease));
    run = store.get_run("run-1");
    EXPECT_EQ(run->attempts, 2);
    EXPECT_EQ(run->started_at_ms, after_lease);

    const RunOutcome outcome = completed_outcome();
    ASSERT_EQ(finish(store, "run-1", outcome), nullptr);
    run = store.get_run("run-1");
    EXPECT_EQ(run->status, RunStatus::completed);
    EXPECT_EQ(run->stage, "RANK");
    EXPECT_EQ(run->output_json, outcome.output_json);
    EXPECT_EQ(run->results_json, outcome.results_json);
    EXPECT_EQ(run->error_code, std::nullopt);
    EXPECT_EQ(run->error_message, std::nullopt);
    EXPECT_EQ(run->error_details_json, "[]");
    EXPECT_EQ(run->trace_json, outcome.trace_json);
    EXPECT_EQ(run->completed_at_ms, outcome.completed_at_ms);
    EXPECT_EQ(run->fingerprint, outcome.fingerprint);
    EXPECT_EQ(run->fingerprint_json, outcome.fingerprint_json);
    EXPECT_EQ(run->attempts, 2);

    // Terminal runs are never claimed again.
    EXPECT_FALSE(claim(store, "run-1", after_lease + 2 * kTestLeaseMs));
    EXPECT_EQ(store.get_run("run-1")->attempts, 2);
    EXPECT_EQ(store.get_run("run-1")->status, RunStatus::completed);

    EXPECT_FALSE(claim(store, "run-missing", 1));
    EXPECT_TRUE(holds<std::out_of_range>(finish(store, "run-missing", completed_outcome())));
}

TEST(Store, SecondFinishFailsAndKeepsTheFirstResult) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    ASSERT_EQ(insert(store, make_run("run-1")), nullptr);
    ASSERT_TRUE(claim(store, "run-1", 1'700'000'000'100));

    const RunOutcome first = failed_outcome();
    ASSERT_EQ(finish(store, "run-1", first), nullptr);
    const std::exception_ptr second = finish(store, "run-1", completed_outcome());
    ASSERT_TRUE(holds<std::logic_error>(second));
    try {
        std::rethrow_exception(second);
    } catch (const std::logic_error& error) {
        EXPECT_NE(std::string(error.what()).find("already failed"), std::string::npos)
            << error.what();
    }

    const auto run = store.get_run("run-1");
    EXPECT_EQ(run->status, RunStatus::failed);
    EXPECT_EQ(run->stage, "EVALUATE");
    EXPECT_EQ(run->error_code, "lua_error");
    EXPECT_EQ(run->error_message, first.error_message);
    EXPECT_EQ(run->error_details_json, first.error_details_json);
    EXPECT_EQ(run->results_json, "[]");
    EXPECT_EQ(run->completed_at_ms, first.completed_at_ms);
}

TEST(Store, FinishWithANonTerminalStatusIsRefused) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    ASSERT_EQ(insert(store, make_run("run-1")), nullptr);
    RunOutcome outcome = completed_outcome();
    outcome.status = RunStatus::processing;
    EXPECT_TRUE(holds<std::invalid_argument>(finish_as(store, "run-1", kTestNode, outcome)));
    EXPECT_EQ(store.get_run("run-1")->status, RunStatus::queued);
}

TEST(Store, ListRunsPagesNewestFirstWithinOneEngineOfOneTenant) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    std::vector<std::string> mine;
    for (int i = 0; i < 23; ++i) {
        const std::string id = "mine-" + std::to_string(i);
        mine.push_back(id);
        ASSERT_EQ(insert(store, make_run(id)), nullptr);
        // Interleaved neighbours that must never show up.
        ASSERT_EQ(insert(store, make_run("org-" + std::to_string(i), "org_z")), nullptr);
        ASSERT_EQ(insert(store, make_run("env-" + std::to_string(i), "org_a", "live")), nullptr);
        ASSERT_EQ(insert(store, make_run("eng-" + std::to_string(i), "org_a", "test", "auto")),
                  nullptr);
    }
    std::reverse(mine.begin(), mine.end());

    RunPageQuery query;
    query.organization = "org_a";
    query.environment_id = "test";
    query.engine_slug = "placement";
    query.limit = 5;
    std::vector<std::string> seen;
    int pages = 0;
    for (;;) {
        const RunPage page = store.list_runs(query);
        ++pages;
        ASSERT_LE(page.runs.size(), 5u);
        for (std::size_t i = 1; i < page.runs.size(); ++i) {
            EXPECT_GT(page.runs[i - 1].seq, page.runs[i].seq);
        }
        for (const std::string& id : ids_of(page.runs)) seen.push_back(id);
        if (!page.next_before_seq) break;
        EXPECT_EQ(*page.next_before_seq, page.runs.back().seq);
        query.before_seq = page.next_before_seq;
        ASSERT_LT(pages, 10);
    }
    EXPECT_EQ(pages, 5);
    EXPECT_EQ(seen, mine);

    // A total that fills the last page exactly announces no further page.
    query.before_seq.reset();
    query.limit = 23;
    const RunPage whole = store.list_runs(query);
    EXPECT_EQ(whole.runs.size(), 23u);
    EXPECT_EQ(whole.next_before_seq, std::nullopt);

    query.organization = "org_nobody";
    EXPECT_TRUE(store.list_runs(query).runs.empty());
}

TEST(Store, ListRunsFiltersByStatus) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    std::vector<std::string> failed;
    for (int i = 0; i < 12; ++i) {
        const std::string id = "run-" + std::to_string(i);
        ASSERT_EQ(insert(store, make_run(id)), nullptr);
        if (i % 3 == 0) {
            ASSERT_EQ(finish(store, id, failed_outcome()), nullptr);
            failed.insert(failed.begin(), id);
        }
    }
    // A failed run of another tenant stays out.
    ASSERT_EQ(insert(store, make_run("other", "org_z")), nullptr);
    ASSERT_EQ(finish(store, "other", failed_outcome()), nullptr);

    RunPageQuery query;
    query.organization = "org_a";
    query.environment_id = "test";
    query.engine_slug = "placement";
    query.status = RunStatus::failed;
    query.limit = 3;
    RunPage page = store.list_runs(query);
    EXPECT_EQ(ids_of(page.runs), std::vector<std::string>(failed.begin(), failed.begin() + 3));
    ASSERT_TRUE(page.next_before_seq.has_value());
    query.before_seq = page.next_before_seq;
    page = store.list_runs(query);
    EXPECT_EQ(ids_of(page.runs), std::vector<std::string>(failed.begin() + 3, failed.end()));
    EXPECT_EQ(page.next_before_seq, std::nullopt);

    query.status = RunStatus::queued;
    query.before_seq.reset();
    query.limit = 100;
    EXPECT_EQ(store.list_runs(query).runs.size(), 8u);
}

TEST(Store, UnfinishedRunsSurviveARestartInSubmissionOrder) {
    TempDir dir;
    {
        SqliteStore store(options_for(dir));
        for (const char* id : {"run-a", "run-b", "run-c", "run-d"}) {
            ASSERT_EQ(insert(store, make_run(id)), nullptr);
        }
        ASSERT_TRUE(claim(store, "run-b", 1'700'000'000'100));
        ASSERT_TRUE(claim(store, "run-c", 1'700'000'000'100));
        ASSERT_EQ(finish(store, "run-c", completed_outcome()), nullptr);
        // Closed with run-a queued and run-b processing, as a crash would leave them.
    }
    SqliteStore reopened(options_for(dir));
    EXPECT_EQ(reopened.queue_counts().queued, 2);
    EXPECT_EQ(reopened.queue_counts().processing, 1);
    EXPECT_EQ(reopened.get_run("run-b")->status, RunStatus::processing);
    // run-b's lease outlives the restart; until it expires the next claims take the queued runs.
    const int64_t during_lease = 1'700'000'000'200;
    EXPECT_EQ(claim(reopened, std::nullopt, during_lease)->run.id, "run-a");
    EXPECT_EQ(claim(reopened, std::nullopt, during_lease)->run.id, "run-d");
    EXPECT_FALSE(claim(reopened, std::nullopt, during_lease));
    EXPECT_EQ(claim(reopened, std::nullopt, during_lease + kTestLeaseMs)->run.id, "run-b");
}

TEST(Store, ConcurrentWritesShareTransactions) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    constexpr int kThreads = 8;
    constexpr int kPerThread = 250;
    std::atomic<int> succeeded{0};
    std::atomic<int> failed{0};
    std::latch all_done(kThreads * kPerThread);
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kPerThread; ++i) {
                    store.insert_run(make_run("run-" + std::to_string(t) + "-" + std::to_string(i)),
                                     [&](std::exception_ptr error) {
                                         (error ? failed : succeeded).fetch_add(1);
                                         all_done.count_down();
                                     });
                }
            });
        }
    }
    all_done.wait();
    EXPECT_EQ(succeeded.load(), kThreads * kPerThread);
    EXPECT_EQ(failed.load(), 0);

    const Store::WriterStats stats = store.writer_stats();
    EXPECT_EQ(stats.writes, static_cast<uint64_t>(kThreads * kPerThread));
    // One transaction per write would be 2000; the bound is loose so that a slow machine still
    // passes, yet only batching meets it.
    EXPECT_LT(stats.transactions, stats.writes / 4);
    EXPECT_GT(stats.largest_batch, 1u);
    RawDb raw(dir.db());
    EXPECT_EQ(raw.count("runs"), kThreads * kPerThread);
}

TEST(Store, DuplicateRunIdFailsOnlyItsOwnWrite) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    ASSERT_EQ(insert(store, make_run("warm-up")), nullptr);

    // Holding the write lock from outside keeps the writer waiting in BEGIN, so the writes
    // below pile up and are committed together once the lock goes.
    RawDb blocker(dir.db());
    blocker.exec("BEGIN IMMEDIATE");
    Outcome first, duplicate, last;
    store.insert_run(make_run("run-1"), first.completion());
    NewRun clash = make_run("run-1");
    clash.request_json = R"({"input":"the duplicate"})";
    store.insert_run(std::move(clash), duplicate.completion());
    store.insert_run(make_run("run-2"), last.completion());
    blocker.exec("COMMIT");

    EXPECT_EQ(first.get(), nullptr);
    const std::exception_ptr error = duplicate.get();
    EXPECT_TRUE(holds<std::invalid_argument>(error));
    EXPECT_EQ(last.get(), nullptr);
    EXPECT_GE(store.writer_stats().largest_batch, 2u);
    EXPECT_LE(store.writer_stats().transactions, 3u);

    EXPECT_EQ(store.get_run("run-1")->request_json, make_run("run-1").request_json);
    EXPECT_TRUE(store.get_run("run-2").has_value());
}

TEST(Store, ApiKeysInsertFindListRevoke) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    ApiKey key;
    key.id = "key_00000000000000a1";
    key.organization = "org_a";
    key.environment = "live";
    key.scopes = {"runs:write", "runs:read"};
    key.display_prefix = "nx_live_ab";
    key.created_at_ms = 1'700'000'000'000;
    store.insert_api_key(key, sha256_hex("nx_live_secret1"));

    ApiKey other = key;
    other.id = "key_00000000000000b2";
    other.organization = "org_b";
    other.environment = "test";
    other.scopes = {};
    other.created_at_ms = 1'700'000'000'001;
    store.insert_api_key(other, sha256_hex("nx_test_secret2"));

    // Same secret hash again: refused, nothing changes.
    ApiKey clash = key;
    clash.id = "key_00000000000000c3";
    EXPECT_THROW(store.insert_api_key(clash, sha256_hex("nx_live_secret1")), std::invalid_argument);

    auto found = store.find_api_key(sha256_hex("nx_live_secret1"));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, key.id);
    EXPECT_EQ(found->organization, "org_a");
    EXPECT_EQ(found->environment, "live");
    EXPECT_EQ(found->scopes, key.scopes);
    EXPECT_EQ(found->display_prefix, "nx_live_ab");
    EXPECT_EQ(found->created_at_ms, key.created_at_ms);
    EXPECT_EQ(found->revoked_at_ms, std::nullopt);
    EXPECT_EQ(store.find_api_key(sha256_hex("nx_live_unknown")), std::nullopt);
    EXPECT_TRUE(store.find_api_key(sha256_hex("nx_test_secret2"))->scopes.empty());

    EXPECT_EQ(store.list_api_keys(std::nullopt).size(), 2u);
    const auto of_b = store.list_api_keys(std::string("org_b"));
    ASSERT_EQ(of_b.size(), 1u);
    EXPECT_EQ(of_b[0].id, other.id);

    EXPECT_TRUE(store.revoke_api_key(key.id, 1'700'000'009'000));
    EXPECT_FALSE(store.revoke_api_key(key.id, 1'700'000'010'000));
    EXPECT_FALSE(store.revoke_api_key("key_missing", 1'700'000'010'000));
    found = store.find_api_key(sha256_hex("nx_live_secret1"));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->revoked_at_ms, 1'700'000'009'000);
}

TEST(Store, ReadsProceedWhileTheDatabaseIsWriteLocked) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    ASSERT_EQ(insert(store, make_run("run-1")), nullptr);
    RawDb blocker(dir.db());
    blocker.exec("BEGIN IMMEDIATE");
    blocker.exec("UPDATE runs SET stage = 'uncommitted'");
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(store.get_run("run-1")->stage, "queued");
    EXPECT_EQ(store.queue_counts().queued, 1);  // what readiness reads
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
    blocker.exec("ROLLBACK");
}

TEST(Store, LockedDatabaseFailsTheWholeBatchAndWritesNothing) {
    TempDir dir;
    SqliteOptions options = options_for(dir);
    options.busy_timeout_ms = 100;
    SqliteStore store(options);
    RawDb blocker(dir.db());
    blocker.exec("BEGIN IMMEDIATE");

    std::vector<std::unique_ptr<Outcome>> outcomes;
    for (int i = 0; i < 5; ++i) {
        outcomes.push_back(std::make_unique<Outcome>());
        store.insert_run(make_run("run-" + std::to_string(i)), outcomes.back()->completion());
    }
    for (auto& outcome : outcomes) EXPECT_TRUE(holds<StoreUnavailable>(outcome->get()));
    ApiKey key;
    key.id = "key_1";
    key.organization = "org_a";
    key.environment = "test";
    EXPECT_THROW(store.insert_api_key(key, "hash"), StoreUnavailable);
    blocker.exec("ROLLBACK");

    for (int i = 0; i < 5; ++i) EXPECT_FALSE(store.get_run("run-" + std::to_string(i)));
    EXPECT_EQ(store.writer_stats().transactions, 0u);
    // The store recovers once the lock is gone.
    EXPECT_EQ(insert(store, make_run("run-after")), nullptr);
}

// Stands in for a full disk: RLIMIT_FSIZE, unlike permission bits, binds root too (tests run
// as root here). Writes past the limit fail with EFBIG, which SQLite meets at COMMIT, when the
// batch's WAL frames are appended.
TEST(Store, WriteFailureAtCommitFailsTheBatchAndLeavesNoPartialRows) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    ASSERT_EQ(insert(store, make_run("before")), nullptr);

    std::uintmax_t largest = 0;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        largest = std::max(largest, entry.file_size());
    }
    std::vector<std::exception_ptr> errors;
    {
        const FileSizeLimit full_disk(largest + 64 * 1024);
        std::vector<std::unique_ptr<Outcome>> outcomes;
        for (int i = 0; i < 4; ++i) {
            NewRun run = make_run("big-" + std::to_string(i));
            run.request_json = "\"" + std::string(1024 * 1024, 'x') + "\"";
            outcomes.push_back(std::make_unique<Outcome>());
            store.insert_run(std::move(run), outcomes.back()->completion());
        }
        for (auto& outcome : outcomes) errors.push_back(outcome->get());
    }

    for (const auto& error : errors) EXPECT_TRUE(holds<StoreUnavailable>(error));
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(store.get_run("big-" + std::to_string(i)));
    EXPECT_EQ(insert(store, make_run("after")), nullptr);
    EXPECT_TRUE(store.get_run("after").has_value());
    EXPECT_TRUE(store.get_run("before").has_value());
}

TEST(Store, OpenFailuresThrowStoreUnavailable) {
    TempDir dir;
    SqliteOptions missing_directory;
    missing_directory.path = (dir.path() / "no-such-dir" / "engined.db").string();
    EXPECT_THROW(SqliteStore{missing_directory}, StoreUnavailable);

    SqliteOptions not_a_database = options_for(dir);
    std::ofstream(not_a_database.path) << std::string(8192, 'g');
    EXPECT_THROW(SqliteStore{not_a_database}, StoreUnavailable);

    SqliteOptions a_directory;
    a_directory.path = dir.path().string();
    EXPECT_THROW(SqliteStore{a_directory}, StoreUnavailable);
}

TEST(Store, ReadOnlyFileIsRefusedAtOpen) {
    TempDir dir;
    { SqliteStore store(options_for(dir)); }
    fs::permissions(dir.db(),
                    fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    if (::access(dir.db().c_str(), W_OK) == 0) {
        GTEST_SKIP() << "permission bits do not bind this user (root); the disk-full and "
                        "locked-database tests cover failing writes";
    }
    EXPECT_THROW(SqliteStore{options_for(dir)}, StoreUnavailable);
}

TEST(Store, BackupCopiesTheCommittedStateWhileWritesGoOn) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    for (int i = 0; i < 200; ++i)
        ASSERT_EQ(insert(store, make_run("before-" + std::to_string(i))), nullptr);

    // Writers keep committing during the copy; the copy is one consistent snapshot.
    std::atomic<bool> copying{true};
    std::atomic<int> written_during{0};
    std::thread writer([&] {
        for (int i = 0; copying; ++i) {
            if (insert(store, make_run("during-" + std::to_string(i))) == nullptr) ++written_during;
        }
    });
    while (written_during == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const std::string backup = (dir.path() / "backup.sqlite3").string();
    std::ofstream(backup) << "an older backup, replaced whole";
    const int64_t pages = store.backup_to(backup);
    copying = false;
    writer.join();

    EXPECT_GT(pages, 0);
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        EXPECT_EQ(entry.path().filename().string().find(".partial-"), std::string::npos)
            << entry.path();
    }
    RawDb copy(backup);
    EXPECT_EQ(copy.scalar("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(copy.scalar("SELECT count(*) FROM runs WHERE id LIKE 'before-%'"), "200");
    SqliteOptions reopened;
    reopened.path = backup;
    SqliteStore restored(reopened);
    EXPECT_EQ(restored.schema_version(), kLatestSchemaVersion);
    EXPECT_TRUE(restored.get_run("before-199").has_value());
}

mode_t permission_bits(const fs::path& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) throw std::runtime_error("stat " + path.string());
    return status.st_mode & 07777;
}

TEST(Store, TheDatabaseItsWalAndShmAndBackupsAreReadableByTheOwnerOnly) {
    TempDir dir;
    const mode_t previous = ::umask(022);  // the usual umask, which would leave them world-readable
    {
        SqliteStore store(options_for(dir));
        ASSERT_EQ(insert(store, make_run("secret")), nullptr);
        for (const char* suffix : {"", "-wal", "-shm"}) {
            EXPECT_EQ(permission_bits(dir.db() + suffix), 0600u) << suffix;
        }
        const fs::path backup = dir.path() / "backup.sqlite3";
        store.backup_to(backup.string());
        EXPECT_EQ(permission_bits(backup), 0600u);
    }
    ::umask(previous);
}

TEST(Store, AnExistingDatabaseLosesGroupAndOtherAccessOnOpen) {
    TempDir dir;
    { SqliteStore store(options_for(dir)); }
    ASSERT_EQ(::chmod(dir.db().c_str(), 0664), 0);
    SqliteStore store(options_for(dir));
    EXPECT_EQ(permission_bits(dir.db()), 0600u);
}

TEST(Store, FailedBackupLeavesNothingAtTheDestination) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    ASSERT_EQ(insert(store, make_run("kept")), nullptr);
    const fs::path missing_folder = dir.path() / "no-such-folder" / "backup.sqlite3";
    EXPECT_THROW(store.backup_to(missing_folder.string()), StoreUnavailable);
    EXPECT_FALSE(fs::exists(missing_folder.parent_path()));
    // A destination that is a folder: the copy is written, but cannot be moved into place.
    const fs::path folder = dir.path() / "a-folder";
    fs::create_directories(folder / "inside");
    EXPECT_THROW(store.backup_to(folder.string()), StoreUnavailable);
    EXPECT_TRUE(fs::is_directory(folder / "inside"));
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        EXPECT_EQ(entry.path().filename().string().find(".partial-"), std::string::npos)
            << entry.path();
    }
}

TEST(Store, ClosingDrainsPendingWrites) {
    TempDir dir;
    constexpr int kWrites = 500;
    std::atomic<int> succeeded{0};
    {
        SqliteStore store(options_for(dir));
        for (int i = 0; i < kWrites; ++i) {
            store.insert_run(make_run("run-" + std::to_string(i)), [&](std::exception_ptr error) {
                if (!error) succeeded.fetch_add(1);
            });
        }
    }
    EXPECT_EQ(succeeded.load(), kWrites);
    SqliteStore reopened(options_for(dir));
    EXPECT_EQ(reopened.queue_counts().queued, kWrites);
}

// ---------------------------------------------------------------------------------------------
// Engines and releases.

constexpr int64_t kAt = 1'700'000'000'000;

EngineRecord make_engine(std::string organization, std::string slug,
                         const std::string& config_json) {
    EngineRecord engine;
    engine.id = "eng_" + random_hex(8);
    engine.organization = std::move(organization);
    engine.slug = std::move(slug);
    engine.label = "Label of " + engine.slug;
    engine.description = "Description of " + engine.slug;
    engine.engine_type = "placement";
    engine.config_hash = sha256_hex(config_json);
    engine.config_updated_by = "user_1";
    engine.config_updated_at_ms = kAt;
    engine.created_at_ms = kAt;
    engine.updated_at_ms = kAt;
    return engine;
}

ReleaseRecord make_release(std::string organization, std::string slug, int major, int minor,
                           const std::string& config_json) {
    ReleaseRecord release;
    release.organization = std::move(organization);
    release.engine_slug = std::move(slug);
    release.major = major;
    release.minor = minor;
    release.config_hash = sha256_hex(config_json);
    release.bundle_json = R"({"config":)" + config_json + "}";
    release.content_hash = sha256_hex(release.bundle_json);
    release.changelog = "Release " + std::to_string(major) + "." + std::to_string(minor);
    release.bump = major == 1 && minor == 0 ? "initial" : minor == 0 ? "major" : "minor";
    release.published_by = "user_1";
    release.released_at_ms = kAt + major * 1000 + minor;
    return release;
}

using EngineKey = std::pair<std::string, std::string>;  // organization, slug

std::vector<EngineKey> keys_of(const std::vector<EngineRecord>& engines) {
    std::vector<EngineKey> keys;
    for (const EngineRecord& engine : engines) keys.emplace_back(engine.organization, engine.slug);
    return keys;
}

std::vector<std::string> versions_of(const std::vector<ReleaseRecord>& releases) {
    std::vector<std::string> versions;
    for (const ReleaseRecord& release : releases) {
        versions.push_back(std::to_string(release.major) + "." + std::to_string(release.minor));
    }
    return versions;
}

// Runs `sql` on a connection of its own, as any other program writing the file would; returns
// SQLite's error message, or "" when the statement succeeded.
std::string write_from_outside(const std::string& path, const char* sql) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
    if (rc != SQLITE_OK) throw std::runtime_error("open " + path);
    if (sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr) == SQLITE_OK) return "";
    return sqlite3_errmsg(db.get());
}

TEST(EngineStore, MigrationTwoIsAppliedToFreshAndReopenedDatabases) {
    TempDir dir;
    { EXPECT_EQ(SqliteStore(options_for(dir)).schema_version(), kLatestSchemaVersion); }
    { EXPECT_EQ(SqliteStore(options_for(dir)).schema_version(), kLatestSchemaVersion); }
    RawDb raw(dir.db());
    EXPECT_EQ(raw.scalar("SELECT group_concat(version) FROM "
                         "(SELECT version FROM schema_migrations ORDER BY version)"),
              kAppliedMigrations);
    for (const char* table : {"engines", "engine_releases"}) {
        EXPECT_EQ(raw.scalar(std::string("SELECT count(*) FROM sqlite_master WHERE type = "
                                         "'table' AND name = '") +
                             table + "'"),
                  "1")
            << table;
    }
    EXPECT_EQ(
        raw.scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'engine%'"),
        "4");
}

TEST(EngineStore, OwnEngineShadowsTheBuiltInOneOfItsSlug) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    const std::string builtin_config = R"({"pack_key":"builtin"})";
    const std::string own_config = R"({"pack_key":"own"})";
    EngineRecord builtin_default = make_engine("", "default", builtin_config);
    store.insert_engine(builtin_default, builtin_config);
    EngineRecord builtin_entities = make_engine("", "entity-analysis", builtin_config);
    builtin_entities.engine_type = "entity_analysis";
    store.insert_engine(builtin_entities, builtin_config);
    EngineRecord own_default = make_engine("org_a", "default", own_config);
    own_default.label = "Our default";
    own_default.description = "Tuned for us";
    own_default.status = "archived";
    own_default.config_updated_by = "user_7";
    own_default.config_updated_at_ms = kAt + 1;
    own_default.created_at_ms = kAt + 2;
    own_default.updated_at_ms = kAt + 3;
    store.insert_engine(own_default, own_config);
    store.insert_engine(make_engine("org_a", "home", own_config), own_config);
    store.insert_engine(make_engine("org_b", "auto", own_config), own_config);

    const auto found = store.find_engine("org_a", "default");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, own_default.id);
    EXPECT_EQ(found->organization, "org_a");
    EXPECT_EQ(found->slug, "default");
    EXPECT_EQ(found->label, "Our default");
    EXPECT_EQ(found->description, "Tuned for us");
    EXPECT_EQ(found->engine_type, "placement");
    EXPECT_EQ(found->status, "archived");
    EXPECT_EQ(found->config_hash, sha256_hex(own_config));
    EXPECT_EQ(found->config_updated_by, "user_7");
    EXPECT_EQ(found->config_updated_at_ms, kAt + 1);
    EXPECT_EQ(found->created_at_ms, kAt + 2);
    EXPECT_EQ(found->updated_at_ms, kAt + 3);
    EXPECT_EQ(store.config_json(found->config_hash), own_config);
    EXPECT_EQ(store.config_json(builtin_default.config_hash), builtin_config);

    // Another organisation sees the built-in engine, never org_a's.
    EXPECT_EQ(store.find_engine("org_b", "default")->id, builtin_default.id);
    EXPECT_EQ(store.find_engine("org_a", "entity-analysis")->engine_type, "entity_analysis");
    EXPECT_EQ(store.find_engine("org_b", "home"), std::nullopt);
    EXPECT_EQ(store.find_engine("org_a", "auto"), std::nullopt);
    EXPECT_EQ(store.find_engine("org_a", "missing"), std::nullopt);

    EXPECT_EQ(
        keys_of(store.list_engines("org_a")),
        (std::vector<EngineKey>{
            {"", "default"}, {"", "entity-analysis"}, {"org_a", "default"}, {"org_a", "home"}}));
    EXPECT_EQ(keys_of(store.list_engines("org_c")),
              (std::vector<EngineKey>{{"", "default"}, {"", "entity-analysis"}}));

    EngineRecord clash = make_engine("org_a", "home", builtin_config);
    clash.label = "The duplicate";
    EXPECT_THROW(store.insert_engine(clash, builtin_config), std::invalid_argument);
    EXPECT_EQ(store.find_engine("org_a", "home")->label, "Label of home");
    // The slug is unique per organisation only.
    store.insert_engine(make_engine("org_b", "home", own_config), own_config);
    EXPECT_EQ(store.find_engine("org_b", "home")->organization, "org_b");
}

TEST(EngineStore, ConfigurationAndStatusUpdates) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    const std::string first = R"({"pack_key":"first"})";
    const std::string second = R"({"pack_key":"second"})";
    store.insert_engine(make_engine("org_a", "home", first), first);

    EXPECT_TRUE(store.update_engine_config("org_a", "home", sha256_hex(second), second, "user_2",
                                           kAt + 10));
    auto engine = store.find_engine("org_a", "home");
    EXPECT_EQ(engine->config_hash, sha256_hex(second));
    EXPECT_EQ(engine->config_updated_by, "user_2");
    EXPECT_EQ(engine->config_updated_at_ms, kAt + 10);
    EXPECT_EQ(engine->updated_at_ms, kAt + 10);
    EXPECT_EQ(engine->created_at_ms, kAt);
    EXPECT_EQ(store.config_json(sha256_hex(second)), second);
    // Runs of the earlier configuration still find it.
    EXPECT_EQ(store.config_json(sha256_hex(first)), first);

    // An unknown engine changes nothing, not even the configurations.
    const std::string stray = R"({"pack_key":"stray"})";
    EXPECT_FALSE(
        store.update_engine_config("org_b", "home", sha256_hex(stray), stray, "user_2", kAt));
    EXPECT_EQ(store.config_json(sha256_hex(stray)), std::nullopt);

    EXPECT_TRUE(store.set_engine_status("org_a", "home", "archived", kAt + 20));
    engine = store.find_engine("org_a", "home");
    EXPECT_EQ(engine->status, "archived");
    EXPECT_EQ(engine->updated_at_ms, kAt + 20);
    EXPECT_EQ(engine->config_updated_at_ms, kAt + 10);
    EXPECT_FALSE(store.set_engine_status("org_b", "home", "archived", kAt + 30));
    EXPECT_THROW(store.set_engine_status("org_a", "home", "deleted", kAt + 30),
                 std::invalid_argument);
    EXPECT_EQ(store.find_engine("org_a", "home")->status, "archived");
    EXPECT_TRUE(store.set_engine_status("org_a", "home", "active", kAt + 40));
    EXPECT_EQ(store.find_engine("org_a", "home")->status, "active");
}

TEST(EngineStore, EnsureBuiltinEngineInsertsOnceAndNeverOverwrites) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    const std::string v1 = R"({"pack_key":"v1"})";
    const std::string v2 = R"({"pack_key":"v2"})";
    const EngineRecord original = make_engine("", "default", v1);
    EngineRecord stored = store.ensure_builtin_engine(original, v1);
    EXPECT_EQ(stored.id, original.id);
    EXPECT_EQ(stored.organization, "");
    EXPECT_EQ(stored.label, original.label);
    EXPECT_EQ(stored.config_hash, sha256_hex(v1));
    EXPECT_EQ(store.config_json(sha256_hex(v1)), v1);

    // A restart with the same configuration: the stored record stays as it is.
    EngineRecord restart = make_engine("", "default", v1);
    restart.label = "Relabelled in code";
    restart.config_updated_at_ms = restart.updated_at_ms = restart.created_at_ms = kAt + 100;
    stored = store.ensure_builtin_engine(restart, v1);
    EXPECT_EQ(stored.id, original.id);
    EXPECT_EQ(stored.label, original.label);
    EXPECT_EQ(stored.config_updated_at_ms, kAt);
    EXPECT_EQ(stored.updated_at_ms, kAt);

    // A new preset at a later start changes nothing: the stored configuration may be the
    // operator's own, and the operator's archiving stays too.
    ASSERT_TRUE(store.set_engine_status("", "default", "archived", kAt + 150));
    EngineRecord upgrade = make_engine("", "default", v2);
    upgrade.status = "active";
    upgrade.config_updated_at_ms = upgrade.updated_at_ms = upgrade.created_at_ms = kAt + 200;
    stored = store.ensure_builtin_engine(upgrade, v2);
    EXPECT_EQ(stored.id, original.id);
    EXPECT_EQ(stored.status, "archived");
    EXPECT_EQ(stored.config_hash, sha256_hex(v1));
    EXPECT_EQ(stored.config_updated_at_ms, kAt);
    RawDb raw(dir.db());
    EXPECT_EQ(raw.count("engines"), 1);
}

TEST(EngineStore, ReleasesInsertListAndFind) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    const std::string config = R"({"pack_key":"home"})";
    const std::string config2 = R"({"pack_key":"home2"})";
    store.insert_release(make_release("org_a", "home", 1, 0, config), config);
    ReleaseRecord breaking = make_release("org_a", "home", 2, 0, config2);
    breaking.is_breaking_from_previous_major = true;
    breaking.reasons_json = R"(["offering removed"])";
    // Out of order: the listing orders by version, not by insertion.
    store.insert_release(breaking, config2);
    store.insert_release(make_release("org_a", "home", 1, 1, config), config);
    store.insert_release(make_release("org_a", "home", 1, 10, config), config);
    store.insert_release(make_release("org_b", "home", 1, 0, config), config);
    store.insert_release(make_release("org_a", "auto", 1, 0, config), config);

    EXPECT_EQ(versions_of(store.list_releases("org_a", "home")),
              (std::vector<std::string>{"1.0", "1.1", "1.10", "2.0"}));
    EXPECT_EQ(versions_of(store.list_releases("org_b", "home")), (std::vector<std::string>{"1.0"}));
    EXPECT_TRUE(store.list_releases("org_c", "home").empty());

    const auto found = store.find_release("org_a", "home", 2, 0);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->organization, "org_a");
    EXPECT_EQ(found->engine_slug, "home");
    EXPECT_EQ(found->major, 2);
    EXPECT_EQ(found->minor, 0);
    EXPECT_EQ(found->config_hash, sha256_hex(config2));
    EXPECT_EQ(found->content_hash, breaking.content_hash);
    EXPECT_EQ(found->bundle_json, breaking.bundle_json);
    EXPECT_EQ(found->changelog, "Release 2.0");
    EXPECT_EQ(found->bump, "major");
    EXPECT_TRUE(found->is_breaking_from_previous_major);
    EXPECT_EQ(found->reasons_json, R"(["offering removed"])");
    EXPECT_EQ(found->published_by, "user_1");
    EXPECT_EQ(found->released_at_ms, breaking.released_at_ms);
    EXPECT_EQ(store.config_json(sha256_hex(config2)), config2);

    const auto initial = store.find_release("org_a", "home", 1, 0);
    ASSERT_TRUE(initial.has_value());
    EXPECT_EQ(initial->bump, "initial");
    EXPECT_FALSE(initial->is_breaking_from_previous_major);
    EXPECT_EQ(initial->reasons_json, "[]");
    EXPECT_EQ(store.find_release("org_a", "home", 1, 2), std::nullopt);
    EXPECT_EQ(store.find_release("org_c", "home", 1, 0), std::nullopt);

    // A version is published once; the first one stays.
    ReleaseRecord again = make_release("org_a", "home", 1, 1, config2);
    again.changelog = "Rewritten history";
    EXPECT_THROW(store.insert_release(again, config2), std::invalid_argument);
    EXPECT_EQ(store.find_release("org_a", "home", 1, 1)->changelog, "Release 1.1");

    ReleaseRecord patch = make_release("org_a", "home", 1, 2, config);
    patch.bump = "patch";
    EXPECT_THROW(store.insert_release(patch, config), std::invalid_argument);
    EXPECT_THROW(store.insert_release(make_release("org_a", "home", 0, 1, config), config),
                 std::invalid_argument);
    EXPECT_EQ(store.list_releases("org_a", "home").size(), 4u);
}

// Any other writer of the file (sqlite3 on the command line) is refused too; a DBA who drops
// the triggers is what the audit chain's MACs catch (enginectl audit verify).
TEST(AuditStore, TheAuditLogRefusesUpdateAndDeleteFromAnyWriter) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    AuditRecord record;
    record.id = "aud_1";
    record.organization = "org_a";
    record.actor = "key_1";
    record.action = "engine.create";
    record.target = "quotes";
    store.append_audit(record, [](const AuditRecord&) { return std::string("mac"); });

    EXPECT_EQ(write_from_outside(dir.db(), "UPDATE audit_log SET action = 'engine.archive'"),
              "the audit log is append-only");
    EXPECT_EQ(write_from_outside(dir.db(), "DELETE FROM audit_log"),
              "the audit log is append-only");
    const auto chain = store.audit_chain("org_a");
    ASSERT_EQ(chain.size(), 1u);
    EXPECT_EQ(chain[0].action, "engine.create");
}

TEST(EngineStore, ReleasesAndConfigurationsAreImmutableForAnyWriter) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    const std::string config = R"({"pack_key":"home"})";
    store.insert_engine(make_engine("org_a", "home", config), config);
    store.insert_release(make_release("org_a", "home", 1, 0, config), config);

    EXPECT_EQ(write_from_outside(dir.db(), "UPDATE engine_releases SET changelog = 'x'"),
              "released engine versions are immutable");
    EXPECT_EQ(write_from_outside(dir.db(), "DELETE FROM engine_releases"),
              "released engine versions are immutable");
    EXPECT_EQ(write_from_outside(dir.db(), "UPDATE engine_configs SET config_json = '{}'"),
              "stored engine configurations are immutable");
    EXPECT_EQ(write_from_outside(dir.db(), "DELETE FROM engine_configs"),
              "stored engine configurations are immutable");

    const auto releases = store.list_releases("org_a", "home");
    ASSERT_EQ(releases.size(), 1u);
    EXPECT_EQ(releases[0].changelog, "Release 1.0");
    EXPECT_EQ(store.config_json(sha256_hex(config)), config);
    // The engine itself is mutable state: only its releases are frozen.
    EXPECT_EQ(write_from_outside(dir.db(), "UPDATE engines SET label = 'Renamed'"), "");
    EXPECT_EQ(store.find_engine("org_a", "home")->label, "Renamed");
}

// --- Carrier pools ------------------------------------------------------------------------

TEST(PoolStore, ReplacePoolPointsAtANewSnapshotAndKeepsTheOldOne) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    const std::string first = R"([{"id":"a"},{"id":"b"}])";
    const std::string second = R"([{"id":"a"}])";
    const PoolSummary imported = store.replace_pool("acme", "carriers:all", first, "pool.csv", kAt);
    EXPECT_EQ(imported.carrier_count, 2);
    EXPECT_EQ(imported.snapshot, sha256_hex(first));
    const PoolSummary replaced =
        store.replace_pool("acme", "carriers:all", second, "pool2.json", kAt + 1);
    const auto found = store.pool_snapshot("acme", "carriers:all");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->snapshot, replaced.snapshot);
    EXPECT_EQ(found->carrier_count, 1);
    EXPECT_EQ(found->source, "pool2.json");
    EXPECT_EQ(found->imported_at_ms, kAt + 1);
    // A run that ranked the first snapshot can still read it.
    EXPECT_EQ(store.pool_carriers(imported.snapshot), first);
    EXPECT_EQ(store.list_pools("acme").size(), 1u);
}

TEST(PoolStore, PoolsBelongToTheirOrganisation) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    store.replace_pool("acme", "carriers:all", R"([{"id":"a"}])", "f", kAt);
    store.replace_pool("acme", "carriers:west", R"([{"id":"w"}])", "f", kAt);
    EXPECT_FALSE(store.pool_snapshot("globex", "carriers:all").has_value());
    EXPECT_TRUE(store.list_pools("globex").empty());
    const auto pools = store.list_pools("acme");
    ASSERT_EQ(pools.size(), 2u);
    EXPECT_EQ(pools[0].name, "carriers:all");
    EXPECT_EQ(pools[1].name, "carriers:west");
}

TEST(PoolStore, RefusesAnythingButANonEmptyArrayAndLeavesThePoolUnchanged) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    store.replace_pool("acme", "carriers:all", R"([{"id":"a"}])", "f", kAt);
    EXPECT_THROW(store.replace_pool("acme", "carriers:all", R"({"id":"a"})", "g", kAt + 1),
                 std::invalid_argument);
    EXPECT_THROW(store.replace_pool("acme", "carriers:all", "[]", "g", kAt + 1),
                 std::invalid_argument);
    EXPECT_EQ(store.pool_snapshot("acme", "carriers:all")->source, "f");
}

TEST(PoolStore, SnapshotsAreImmutable) {
    TempDir dir;
    std::string snapshot;
    {
        SqliteStore store(options_for(dir));
        snapshot = store.replace_pool("acme", "carriers:all", R"([{"id":"a"}])", "f", kAt).snapshot;
    }
    EXPECT_EQ(write_from_outside(dir.db(), "UPDATE pool_snapshots SET carriers_json = '[]'"),
              "pool snapshots are immutable");
    EXPECT_EQ(write_from_outside(dir.db(), "DELETE FROM pool_snapshots"),
              "pool snapshots are immutable");
    SqliteStore store(options_for(dir));
    EXPECT_EQ(store.pool_carriers(snapshot), R"([{"id":"a"}])");
}

// --- Webhooks

WebhookEndpoint make_endpoint(std::string id,
                              std::vector<std::string> events = {"run.completed", "run.failed"},
                              bool active = true) {
    WebhookEndpoint endpoint;
    endpoint.id = std::move(id);
    endpoint.organization = "org_a";
    endpoint.environment_id = "test";
    endpoint.url = "https://hooks.example.com/" + endpoint.id;
    endpoint.events = std::move(events);
    endpoint.active = active;
    endpoint.secret = "whsec_test";
    endpoint.created_at_ms = 1'700'000'000'000;
    endpoint.updated_at_ms = endpoint.created_at_ms;
    return endpoint;
}

TEST(WebhookOutbox, FinishingARunWritesItsDeliveriesInTheSameWrite) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    store.insert_webhook_endpoint(make_endpoint("we_all"), 10);
    store.insert_webhook_endpoint(make_endpoint("we_paused", {"run.completed"}, false), 10);
    store.insert_webhook_endpoint(make_endpoint("we_failures", {"run.failed"}), 10);
    NewRun run = make_run("run_hooked");
    run.webhook_url = "https://client.example.com/run";
    ASSERT_FALSE(insert(store, run));
    ASSERT_FALSE(insert(store, make_run("run_other_env", "org_a", "live")));
    RawDb raw(dir.db());
    EXPECT_EQ(raw.count("webhook_deliveries"), 0) << "nothing is sent before the run ends";

    ASSERT_FALSE(finish(store, "run_hooked", completed_outcome()));
    ASSERT_FALSE(finish(store, "run_other_env", completed_outcome()));
    EXPECT_EQ(raw.count("webhook_deliveries"), 2);
    EXPECT_EQ(raw.scalar("SELECT group_concat(coalesce(endpoint_id, url), ' ') FROM "
                         "(SELECT * FROM webhook_deliveries ORDER BY endpoint_id)"),
              "https://client.example.com/run we_all");
    EXPECT_EQ(raw.scalar("SELECT count(DISTINCT event_id) FROM webhook_deliveries"), "1");
    EXPECT_EQ(raw.scalar("SELECT DISTINCT event_type FROM webhook_deliveries"), "run.completed");

    // A refused finish adds nothing: the deliveries exist exactly when the terminal status does.
    EXPECT_TRUE(holds<std::logic_error>(finish(store, "run_hooked", failed_outcome())));
    EXPECT_EQ(raw.count("webhook_deliveries"), 2);

    ASSERT_FALSE(insert(store, make_run("run_failing")));
    ASSERT_FALSE(finish(store, "run_failing", failed_outcome()));
    EXPECT_EQ(raw.scalar("SELECT group_concat(endpoint_id, ' ') FROM "
                         "(SELECT endpoint_id FROM webhook_deliveries WHERE event_type = "
                         "'run.failed' ORDER BY endpoint_id)"),
              "we_all we_failures");
}

TEST(WebhookOutbox, LeasesAreExclusiveUntilReleasedAtRestart) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    store.insert_webhook_endpoint(make_endpoint("we_all"), 10);
    for (const char* id : {"run_1", "run_2"}) {
        ASSERT_FALSE(insert(store, make_run(id)));
        ASSERT_FALSE(finish(store, id, completed_outcome()));
    }
    const int64_t now = completed_outcome().completed_at_ms + 1;
    EXPECT_TRUE(store.lease_due_deliveries(now - 10, now + 60'000, 10).empty()) << "not due yet";
    const auto leased = store.lease_due_deliveries(now, now + 60'000, 10);
    ASSERT_EQ(leased.size(), 2u);
    EXPECT_EQ(leased[0].run_id, "run_1");
    EXPECT_EQ(leased[0].endpoint_id, "we_all");
    EXPECT_TRUE(store.lease_due_deliveries(now, now + 60'000, 10).empty())
        << "leased deliveries are taken";
    EXPECT_EQ(store.lease_due_deliveries(now + 60'000, now + 120'000, 10).size(), 2u)
        << "an expired lease frees them";
}

TEST(WebhookOutbox, AttemptsCountTheFailureStreakAndDisablingFailsPendingDeliveries) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    store.insert_webhook_endpoint(make_endpoint("we_all"), 10);
    for (const char* id : {"run_1", "run_2"}) {
        ASSERT_FALSE(insert(store, make_run(id)));
        ASSERT_FALSE(finish(store, id, completed_outcome()));
    }
    const auto deliveries = store.list_deliveries("org_a", "test", "we_all", 10);
    ASSERT_EQ(deliveries.size(), 2u);
    const std::string first = deliveries[1].id;  // newest first
    const AttemptVerdict retry{DeliveryStatus::pending, int64_t{5}, false};
    EXPECT_EQ(store.record_delivery_attempt({first, 1, 1, 3, 500, "HTTP 500"}, retry, 4), 1);
    EXPECT_EQ(store.record_delivery_attempt({first, 2, 6, 3, std::nullopt, "timed_out"}, retry, 9),
              2);
    EXPECT_TRUE(store.find_webhook_endpoint("org_a", "test", "we_all")->active)
        << "the store keeps no disabling policy";
    const std::string reason = "disabled after 2 consecutive failed delivery attempts";
    EXPECT_TRUE(store.disable_webhook_endpoint("we_all", reason, 10));
    EXPECT_FALSE(store.disable_webhook_endpoint("we_all", reason, 11))
        << "an inactive endpoint is disabled once";
    EXPECT_FALSE(store.disable_webhook_endpoint("we_missing", reason, 11));
    const auto endpoint = store.find_webhook_endpoint("org_a", "test", "we_all");
    EXPECT_FALSE(endpoint->active);
    EXPECT_EQ(endpoint->consecutive_failures, 2);
    EXPECT_EQ(endpoint->disabled_reason, "disabled after 2 consecutive failed delivery attempts");
    for (const auto& delivery : store.list_deliveries("org_a", "test", "we_all", 10)) {
        EXPECT_EQ(delivery.status, DeliveryStatus::failed) << delivery.id;
    }
    const auto attempts = store.list_delivery_attempts(first);
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_EQ(attempts[0].status_code, 500);
    EXPECT_EQ(attempts[1].status_code, std::nullopt);
    EXPECT_EQ(attempts[1].error, "timed_out");
    // Re-activated and re-sent by hand, a success ends the streak.
    WebhookEndpoint reactivated = *endpoint;
    reactivated.active = true;
    reactivated.consecutive_failures = 0;
    ASSERT_TRUE(store.update_webhook_endpoint(reactivated, 10));
    ASSERT_TRUE(store.retry_delivery("org_a", "test", first, 20));
    EXPECT_FALSE(store.retry_delivery("org_b", "test", first, 20))
        << "another organisation's delivery";
    ASSERT_EQ(store.lease_due_deliveries(20, 100, 10).size(), 1u);
    EXPECT_EQ(store.record_delivery_attempt({first, 3, 21, 2, 200, ""},
                                            {DeliveryStatus::delivered, std::nullopt, true}, 23),
              0);
    EXPECT_EQ(store.find_webhook_endpoint("org_a", "test", "we_all")->consecutive_failures, 0);
    EXPECT_EQ(store.find_delivery("org_a", "test", first)->status, DeliveryStatus::delivered);
}

TEST(WebhookEndpoints, TheActiveLimitHoldsForWhatIsStored) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    store.insert_webhook_endpoint(make_endpoint("we_1"), 2);
    store.insert_webhook_endpoint(make_endpoint("we_2"), 2);
    EXPECT_THROW(store.insert_webhook_endpoint(make_endpoint("we_3"), 2), TooManyActiveEndpoints);
    store.insert_webhook_endpoint(make_endpoint("we_paused", {"run.completed"}, false), 2);
    WebhookEndpoint paused = *store.find_webhook_endpoint("org_a", "test", "we_paused");
    paused.active = true;
    EXPECT_THROW(store.update_webhook_endpoint(paused, 2), TooManyActiveEndpoints);
    EXPECT_FALSE(store.find_webhook_endpoint("org_a", "test", "we_paused")->active)
        << "the refused update left nothing";
    EXPECT_EQ(store.list_webhook_endpoints("org_a", "test").size(), 3u);
    EXPECT_TRUE(store.list_webhook_endpoints("org_a", "live").empty());
    EXPECT_TRUE(store.delete_webhook_endpoint("org_a", "test", "we_1", 1));
    EXPECT_FALSE(store.delete_webhook_endpoint("org_a", "test", "we_1", 1));
    EXPECT_TRUE(store.update_webhook_endpoint(paused, 2));
}

// Two first needs at once (a delivery and a reveal) must end with one secret, the one both use.
TEST(WebhookSigningSecrets, TheFirstSecretOfAnEnvironmentStaysAndIsReturnedToEveryLaterAdd) {
    TempDir dir;
    SqliteStore store(options_for(dir));
    EXPECT_FALSE(store.find_signing_secret("org_a", "test"));
    const SigningSecret first =
        store.add_signing_secret("org_a", "test", {"whsec_first", std::nullopt, std::nullopt, 1});
    EXPECT_EQ(first.secret, "whsec_first");
    const SigningSecret second =
        store.add_signing_secret("org_a", "test", {"whsec_second", std::nullopt, std::nullopt, 2});
    EXPECT_EQ(second.secret, "whsec_first");
    EXPECT_EQ(second.rotated_at_ms, 1);
    EXPECT_EQ(store.find_signing_secret("org_a", "test")->secret, "whsec_first");
    // Each environment has its own.
    EXPECT_EQ(
        store.add_signing_secret("org_a", "live", {"whsec_live", std::nullopt, std::nullopt, 3})
            .secret,
        "whsec_live");
    // A rotation replaces it as before.
    store.put_signing_secret("org_a", "test", {"whsec_rotated", std::string("whsec_first"), 10, 4});
    EXPECT_EQ(
        store.add_signing_secret("org_a", "test", {"whsec_other", std::nullopt, std::nullopt, 5})
            .secret,
        "whsec_rotated");
}

}  // namespace
}  // namespace engined::store
