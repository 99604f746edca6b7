#include "net/url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace engined::net {
namespace {

Url parsed(std::string_view text) {
    auto result = parse_url(text);
    if (auto* error = std::get_if<std::string>(&result)) ADD_FAILURE() << text << ": " << *error;
    return std::holds_alternative<Url>(result) ? std::get<Url>(result) : Url{};
}

std::string error_of(std::string_view text) {
    auto result = parse_url(text);
    if (std::holds_alternative<Url>(result)) {
        ADD_FAILURE() << text << " was accepted";
        return {};
    }
    return std::get<std::string>(result);
}

TEST(ParseUrl, SplitsSchemeHostPortAndTarget) {
    const Url url = parsed("https://Hooks.Example.com:8443/v1/events?tenant=a&x=1");
    EXPECT_EQ(url.scheme, "https");
    EXPECT_EQ(url.host, "hooks.example.com");
    EXPECT_EQ(url.port, 8443);
    EXPECT_EQ(url.target, "/v1/events?tenant=a&x=1");
}

TEST(ParseUrl, DefaultsPortsByScheme) {
    EXPECT_EQ(parsed("http://example.com/a").port, 80);
    EXPECT_EQ(parsed("https://example.com/a").port, 443);
    EXPECT_EQ(parsed("HTTPS://example.com").scheme, "https");
}

TEST(ParseUrl, EmptyPathBecomesSlash) {
    EXPECT_EQ(parsed("https://example.com").target, "/");
    EXPECT_EQ(parsed("https://example.com?x=1").target, "/?x=1");
}

TEST(ParseUrl, AcceptsIpv6LiteralsInBrackets) {
    const Url url = parsed("http://[2606:4700::1111]:8080/hook");
    EXPECT_EQ(url.host, "2606:4700::1111");
    EXPECT_EQ(url.port, 8080);
    EXPECT_EQ(parsed("https://[::1]/").port, 443);
    EXPECT_EQ(host_header(url), "[2606:4700::1111]:8080");
    EXPECT_EQ(host_header(parsed("https://[::1]/")), "[::1]");
    EXPECT_EQ(host_header(parsed("https://example.com:443/")), "example.com");
    EXPECT_EQ(host_header(parsed("http://example.com:8080/")), "example.com:8080");
}

TEST(ParseUrl, RefusesRelativeUrls) {
    EXPECT_NE(error_of("/hooks").find("not absolute"), std::string::npos);
    EXPECT_NE(error_of("example.com/hooks").find("not absolute"), std::string::npos);
    EXPECT_NE(error_of("//example.com/hooks").find("not absolute"), std::string::npos);
    EXPECT_NE(error_of("").find("not absolute"), std::string::npos);
}

TEST(ParseUrl, RefusesOtherSchemes) {
    EXPECT_NE(error_of("ftp://example.com/").find("scheme"), std::string::npos);
    EXPECT_NE(error_of("file:///etc/passwd").find("scheme"), std::string::npos);
    EXPECT_NE(error_of("gopher://example.com/").find("scheme"), std::string::npos);
}

TEST(ParseUrl, RefusesMissingHost) {
    EXPECT_NE(error_of("https:///path").find("no host"), std::string::npos);
    EXPECT_NE(error_of("https://:8080/path").find("no host"), std::string::npos);
    EXPECT_NE(error_of("https://?x").find("no host"), std::string::npos);
}

TEST(ParseUrl, RefusesUserinfo) {
    EXPECT_NE(error_of("https://user:pw@example.com/").find("userinfo"), std::string::npos);
    EXPECT_NE(error_of("https://example.com@127.0.0.1/").find("userinfo"), std::string::npos);
}

TEST(ParseUrl, RefusesFragments) {
    EXPECT_NE(error_of("https://example.com/a#b").find("fragment"), std::string::npos);
    EXPECT_NE(error_of("https://example.com#").find("fragment"), std::string::npos);
}

TEST(ParseUrl, RefusesBadPorts) {
    for (const char* url :
         {"https://example.com:/", "https://example.com:0/", "https://example.com:65536/",
          "https://example.com:8o/", "https://example.com:-1/", "https://example.com:123456/",
          "http://[::1]:x/"}) {
        EXPECT_NE(error_of(url).find("port"), std::string::npos) << url;
    }
    EXPECT_EQ(parsed("https://example.com:65535/").port, 65535);
    EXPECT_EQ(parsed("https://example.com:1/").port, 1);
}

TEST(ParseUrl, RefusesMalformedHosts) {
    EXPECT_FALSE(error_of("http://[::1/").empty());
    EXPECT_FALSE(error_of("http://[not-v6]/").empty());
    EXPECT_FALSE(error_of("http://[fe80::1%25eth0]/").empty());
    EXPECT_FALSE(error_of("http://[::1]x/").empty());
    EXPECT_FALSE(error_of("http://exa%6dple.com/").empty());
    EXPECT_FALSE(error_of("http://a..b/").empty());
}

TEST(ParseUrl, LengthLimitIsInclusive) {
    const std::string prefix = "https://example.com/";
    const std::string at_limit = prefix + std::string(max_url_length - prefix.size(), 'a');
    ASSERT_EQ(at_limit.size(), 2048u);
    EXPECT_EQ(parsed(at_limit).target.size(), max_url_length - prefix.size() + 1);
    EXPECT_NE(error_of(at_limit + "a").find("longer than 2048"), std::string::npos);
}

TEST(ParseUrl, RefusesWhitespaceAndControlCharacters) {
    for (std::string url :
         {"https://example.com/a b", "https://example.com/a\tb", "https://example.com/\r\nX: y",
          " https://example.com/", "https://example.com/\x7f"}) {
        EXPECT_NE(error_of(url).find("whitespace or control"), std::string::npos) << url;
    }
    EXPECT_NE(error_of(std::string("https://example.com/\0", 21)).find("control"),
              std::string::npos);
    EXPECT_NE(error_of("https://exämple.com/").find("non-ASCII"), std::string::npos);
}

TEST(CheckWebhookUrl, RequiresHttpsOnlyWhenAsked) {
    EXPECT_EQ(check_webhook_url("https://example.com/hook", true), std::nullopt);
    EXPECT_EQ(check_webhook_url("http://example.com/hook", false), std::nullopt);
    const auto refused = check_webhook_url("http://example.com/hook", true);
    ASSERT_TRUE(refused.has_value());
    EXPECT_NE(refused->find("https"), std::string::npos);
}

TEST(CheckWebhookUrl, ReportsParseErrors) {
    const auto refused = check_webhook_url("https://user@example.com/", false);
    ASSERT_TRUE(refused.has_value());
    EXPECT_NE(refused->find("userinfo"), std::string::npos);
}

TEST(UrlWithoutQuery, DropsTheQueryForLogs) {
    EXPECT_EQ(url_without_query("https://hooks.example.com/in?token=secret&x=1"),
              "https://hooks.example.com/in");
    EXPECT_EQ(url_without_query("https://hooks.example.com/in"), "https://hooks.example.com/in");
    EXPECT_EQ(url_without_query("http://127.0.0.1:8080/?"), "http://127.0.0.1:8080/");
}

}  // namespace
}  // namespace engined::net
