// SQLite backend: opening the database file for the writer, owner-only.
#include "store/sqlite/connection.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace engined::store::sqlite {

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

Connection open_writer(const SqliteOptions& options) {
    restrict_to_owner(options.path);
    Connection connection(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          options.busy_timeout_ms);
    // SQLite quietly falls back to read-only when it cannot write the file; every write would
    // then fail later, one by one. Refuse now instead.
    if (sqlite3_db_readonly(connection.get(), "main") == 1) {
        fail("open " + options.path, "the database file is read-only");
    }
    const std::string mode = connection.pragma("PRAGMA journal_mode = WAL", "enable WAL");
    if (mode != "wal") fail("enable WAL", "journal mode stayed '" + mode + "'");
    // Debian builds SQLite with synchronous=FULL even in WAL: state the choice explicitly.
    connection.exec(
        options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
        "set synchronous");
    connection.exec("PRAGMA foreign_keys = ON", "enable foreign keys");
    connection.exec(("PRAGMA wal_autocheckpoint = " + std::to_string(kWalCheckpointPages)).c_str(),
                    "set the checkpoint interval");
    return connection;
}

}  // namespace engined::store::sqlite
