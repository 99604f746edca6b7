// SQLite backend: opening the database file for the writer, owner-only.
#include "store/sqlite/connection.hpp"

#include "store/sqlite/gathered_writes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

namespace engined::store::sqlite {
namespace {

constexpr std::string_view kPreallocateWal = "preallocate the WAL";

}  // namespace

// SQLite keeps a count of the memory it holds by default, under one process-wide mutex taken at
// every allocation and free of every connection (about 1 % of engined's CPU at full load); engined
// never reads it. The option is only accepted before the library initialises: a process that used
// SQLite before its first Connection keeps the count.
void configure_library_once() {
    static const bool configured = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }();
    (void)configured;
}

// The database holds key hashes, webhook secrets and every request: readable by engined's user
// only. Creates a missing file 0600 and takes group and other access away from an existing one
// (owner bits stay, so a read-only file is still refused below). SQLite gives the -wal and -shm
// files it creates the main file's mode; existing ones are tightened the same way.
void restrict_to_owner(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (fd < 0) fail("open " + path, std::strerror(errno));
    struct stat status {};
    const bool tightened = ::fstat(fd, &status) == 0 && ::fchmod(fd, status.st_mode & S_IRWXU) == 0;
    const int error = errno;
    ::close(fd);
    if (!tightened) fail("restrict access to " + path, std::strerror(error));
    for (const char* companion : {"-wal", "-shm"}) {
        const std::string companion_path = path + companion;
        if (::stat(companion_path.c_str(), &status) == 0)
            ::chmod(companion_path.c_str(), status.st_mode & S_IRWXU);
    }
}

Connection open_writing_connection(const SqliteOptions& options, int flags) {
    Connection connection(options.path, flags, options.busy_timeout_ms,
                          options.synchronous_full ? gathered_writes_vfs() : nullptr);
    // Debian builds SQLite with synchronous=FULL even in WAL: state the choice explicitly.
    connection.exec(
        options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
        "set synchronous");
    return connection;
}

Connection open_writer(const SqliteOptions& options) {
    restrict_to_owner(options.path);
    Connection connection =
        open_writing_connection(options, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    // SQLite quietly falls back to read-only when it cannot write the file; every write would
    // then fail later, one by one. Refuse now instead.
    if (sqlite3_db_readonly(connection.get(), "main") == 1) {
        fail("open " + options.path, "the database file is read-only");
    }
    const std::string mode = connection.pragma("PRAGMA journal_mode = WAL", "enable WAL");
    if (mode != "wal") fail("enable WAL", "journal mode stayed '" + mode + "'");
    connection.exec("PRAGMA foreign_keys = ON", "enable foreign keys");
    connection.exec(
        ("PRAGMA wal_autocheckpoint = " + std::to_string(options.wal_checkpoint_pages)).c_str(),
        "set the checkpoint interval");
    return connection;
}

int64_t wal_size_between_checkpoints(Connection& connection, int checkpoint_pages) {
    constexpr int64_t kWalHeaderBytes = 32;
    constexpr int64_t kFrameHeaderBytes = 24;
    const int64_t page_size = std::stoll(connection.pragma("PRAGMA page_size", "read page size"));
    return kWalHeaderBytes + checkpoint_pages * (kFrameHeaderBytes + page_size);
}

void preallocate_wal(Connection& connection, int checkpoint_pages) {
    const int64_t target = wal_size_between_checkpoints(connection, checkpoint_pages);
    connection.exec("BEGIN IMMEDIATE", kPreallocateWal);
    const auto give_up = [&connection](std::string_view message) {
        const std::string detail(message);
        sqlite3_exec(connection.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        fail(kPreallocateWal, detail);
    };
    sqlite3_file* wal = nullptr;
    if (sqlite3_file_control(connection.get(), "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) !=
            SQLITE_OK ||
        wal == nullptr || wal->pMethods == nullptr) {
        give_up("the WAL file is not open");
    }
    sqlite3_int64 size = 0;
    if (wal->pMethods->xFileSize(wal, &size) != SQLITE_OK) give_up("cannot read the WAL's size");
    if (size < target) {
        // Real zeros, not fallocate(): blocks the file system only reserved are converted on
        // their first write, which costs the same journal commit as growing the file.
        // SQLite's unix VFS writes at most 128 KiB - 1 bytes per call.
        static constexpr int kChunkBytes = 64 * 1024;
        const std::vector<char> zeros(kChunkBytes, 0);
        for (sqlite3_int64 offset = size; offset < target; offset += kChunkBytes) {
            const int length =
                static_cast<int>(std::min<sqlite3_int64>(kChunkBytes, target - offset));
            if (wal->pMethods->xWrite(wal, zeros.data(), length, offset) != SQLITE_OK)
                give_up("writing zeros failed (is the disk full?)");
        }
        if (wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK)
            give_up("syncing the WAL failed");
    }
    connection.exec("COMMIT", kPreallocateWal);
}

}  // namespace engined::store::sqlite
