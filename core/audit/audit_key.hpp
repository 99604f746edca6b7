// core/audit — the audit log of operator actions: the key that seals it, the chain's MACs and
// their verification (chain.hpp), and the trail that appends a record per action
// (audit_trail.hpp). audit_key.hpp: the audit key, kept in a file outside the database, so
// whoever can write the database cannot forge the chain.
#pragma once

#include <filesystem>
#include <string>

namespace engined::audit {

// The key file engined uses when its configuration names none: `audit.key` in the data dir.
std::filesystem::path default_key_file(const std::filesystem::path& data_dir);

// The key in `file` (64 hex characters, surrounding whitespace ignored). Throws
// std::runtime_error naming the file when it is missing, unreadable or not such a key.
std::string read_key(const std::filesystem::path& file);

// read_key(file), after writing a fresh random key there (mode 0600) when the file is absent.
std::string read_or_create_key(const std::filesystem::path& file);

}  // namespace engined::audit
