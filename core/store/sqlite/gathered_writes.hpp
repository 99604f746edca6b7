// core/store/sqlite/gathered_writes — a SQLite VFS over the platform's default one that gathers
// the consecutive writes a connection makes to a file into a few large writes at its next sync.
//
// SQLite writes each WAL frame as two calls (its 24-byte header, then the page) and a checkpoint
// copies each page back with a call of its own; on this kind of host every call costs about
// 1.5 µs of kernel time whatever its size, several times the copy itself. Held in memory until
// the file is synced (or read, sized, truncated, locked, closed...), a commit's frames reach the
// kernel in 64 KiB writes instead.
//
// Safe only for a connection whose every commit syncs the WAL (PRAGMA synchronous = FULL):
// SQLite publishes a commit's frames to other connections (the WAL index in shared memory) after
// that sync, and a checkpoint records what it copied only after syncing the database file. At a
// lower setting a commit would be visible before its frames were written.
#pragma once

namespace engined::store::sqlite {

// Registers the VFS on first use (never as the default) and returns the name to pass to
// sqlite3_open_v2.
const char* gathered_writes_vfs();

}  // namespace engined::store::sqlite
