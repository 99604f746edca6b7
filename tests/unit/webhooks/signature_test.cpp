#include "common/crypto.hpp"
#include "webhooks/signature.hpp"
#include "webhooks/webhook_service.hpp"

#include <gtest/gtest.h>

namespace engined::webhooks {
namespace {

TEST(Signature, HmacMatchesTheRfc4231Vector) {
    EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Signature, HeaderCarriesTheTimestampAndOneV1PerSecret) {
    const std::string body = R"({"id":"evt_1"})";
    EXPECT_EQ(signature_header(1700000000, body, {"whsec_a"}),
              "t=1700000000,v1=" + hmac_sha256_hex("whsec_a", "1700000000." + body));
    EXPECT_EQ(signature_header(1700000000, body, {"whsec_a", "whsec_b"}),
              "t=1700000000,v1=" + hmac_sha256_hex("whsec_a", "1700000000." + body) +
                  ",v1=" + hmac_sha256_hex("whsec_b", "1700000000." + body));
}

TEST(Signature, SecretsAreFreshAndPrefixed) {
    const std::string first = new_secret();
    EXPECT_TRUE(first.starts_with("whsec_"));
    EXPECT_EQ(first.size(), 6u + 64u);
    EXPECT_NE(first, new_secret());
}

TEST(Signature, ThePreviousSecretSignsOnlyUntilItExpires) {
    EXPECT_EQ(valid_secrets("new", std::string("old"), int64_t{1000}, 999),
              (std::vector<std::string>{"new", "old"}));
    EXPECT_EQ(valid_secrets("new", std::string("old"), int64_t{1000}, 1000),
              (std::vector<std::string>{"new"}));
    EXPECT_EQ(valid_secrets("new", std::nullopt, std::nullopt, 0),
              (std::vector<std::string>{"new"}));
}

}  // namespace
}  // namespace engined::webhooks
