// Randomness and hashing from OpenSSL: identifiers, API key secrets, content hashes, and the
// HMAC that signs webhook deliveries and seals the audit log's chain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace engined {

// `count` bytes from OpenSSL's CSPRNG, hex-encoded (2 * count characters).
std::string random_hex(std::size_t count);

// A random (version 4) UUID in its canonical 8-4-4-4-12 form.
std::string uuid_v4();

// A time-ordered (version 7) UUID: `unix_ms` in its first 48 bits, 74 random bits after. Keys made
// from it are inserted next to each other in an index instead of on a random page of it.
std::string uuid_v7(std::uint64_t unix_ms);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Lower-case hex HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

}  // namespace engined
