#include "common/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

namespace engined {
namespace {

std::string to_hex(const unsigned char* bytes, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(size * 2, '0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    return out;
}

void fill_random(unsigned char* bytes, std::size_t size) {
    if (RAND_bytes(bytes, static_cast<int>(size)) != 1) {
        throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
}

// Random bytes for identifiers (not secrets), taken from OpenSSL's generator a block at a time per
// thread: one call into it per 32 identifiers instead of one each, on the path of every submit.
// engined never forks, so no two processes hand out bytes of the same block.
void fill_random_for_identifier(unsigned char* bytes, std::size_t size) {
    thread_local std::array<unsigned char, 512> block;
    thread_local std::size_t used = block.size();
    if (size > block.size()) return fill_random(bytes, size);
    if (size > block.size() - used) {
        fill_random(block.data(), block.size());
        used = 0;
    }
    std::memcpy(bytes, block.data() + used, size);
    used += size;
}

// RFC 9562's layout: the version in the high nibble of byte 6, the variant (10) in byte 8.
std::string canonical_uuid(std::array<unsigned char, 16>& b, unsigned version) {
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | (version << 4));
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    std::string uuid = to_hex(b.data(), b.size());
    for (const std::size_t dash : {8, 13, 18, 23}) uuid.insert(dash, 1, '-');
    return uuid;
}

}  // namespace

std::string random_hex(std::size_t count) {
    std::vector<unsigned char> bytes(count);
    fill_random(bytes.data(), bytes.size());
    return to_hex(bytes.data(), bytes.size());
}

std::string uuid_v4() {
    std::array<unsigned char, 16> b{};
    fill_random_for_identifier(b.data(), b.size());
    return canonical_uuid(b, 4);
}

std::string uuid_v7(std::uint64_t unix_ms) {
    std::array<unsigned char, 16> b{};
    fill_random_for_identifier(b.data() + 6, b.size() - 6);
    for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(unix_ms >> (8 * (5 - i)));
    return canonical_uuid(b, 7);
}

std::string sha256_hex(std::string_view data) {
    // EVP_Digest with EVP_sha256() looks the provider's implementation up and allocates a
    // context on every call (OpenSSL 3); a submit hashes several times. The implementation is
    // fetched once for the process (never freed: it lives as long as OpenSSL does) and each
    // thread reuses its context.
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
        EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (sha256 == nullptr || context == nullptr ||
        EVP_DigestInit_ex2(context.get(), sha256, nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) {
        throw std::runtime_error("OpenSSL SHA-256 failed");
    }
    return to_hex(digest.data(), length);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
             &length) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return to_hex(digest, length);
}

}  // namespace engined
