// Randomness and hashing from OpenSSL: identifiers, API key secrets, content hashes, and the
// HMAC that signs webhook deliveries and seals the audit log's chain.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace engined {

// `count` bytes from OpenSSL's CSPRNG, hex-encoded (2 * count characters).
std::string random_hex(std::size_t count);

// A random (version 4) UUID in its canonical 8-4-4-4-12 form.
std::string uuid_v4();

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Lower-case hex HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

}  // namespace engined
