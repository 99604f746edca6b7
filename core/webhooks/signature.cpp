#include "webhooks/signature.hpp"

#include "common/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace engined::webhooks {

std::string new_secret() {
    return "whsec_" + random_hex(32);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
             &length) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0x0f];
    }
    return hex;
}

std::string signature_header(int64_t unix_s, std::string_view body,
                             const std::vector<std::string>& secrets) {
    const std::string timestamp = std::to_string(unix_s);
    std::string signed_payload;
    signed_payload.reserve(timestamp.size() + 1 + body.size());
    signed_payload.append(timestamp).append(".").append(body);
    std::string header = "t=" + timestamp;
    for (const std::string& secret : secrets)
        header += ",v1=" + hmac_sha256_hex(secret, signed_payload);
    return header;
}

}  // namespace engined::webhooks
