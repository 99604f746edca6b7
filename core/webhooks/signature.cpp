#include "webhooks/signature.hpp"

#include "common/crypto.hpp"

#include <stdexcept>

namespace engined::webhooks {

std::string new_secret() {
    return "whsec_" + random_hex(32);
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
