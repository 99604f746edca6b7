// Absolute links: which public URLs and Host headers are accepted, and where each answer's links
// point with and without a public URL.
#include "http/links.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace engined::http {
namespace {

Request request_with_host(std::string_view host, std::size_t fields = 1) {
    return Request(
        Method::get, "/api/v1/jobs/x", {},
        [host, fields](std::string_view name) {
            return name == "Host" && !host.empty() ? HeaderField(host, fields) : HeaderField();
        },
        "req_test");
}

TEST(Host, AcceptsNamesAddressesAndPorts) {
    for (const char* host : {"localhost", "api.example.com", "api.example.com:8443",
                             "127.0.0.1:8080", "[::1]", "[2001:db8::1]:443", "a-b.example"}) {
        EXPECT_TRUE(is_valid_host(host)) << host;
    }
    EXPECT_TRUE(is_valid_host(std::string(255, 'a')));
}

TEST(Host, RefusesWhatIsNotHostAndPort) {
    for (const char* host : {"",
                             "evil.example/path",
                             "evil.example path",
                             "user@evil.example",
                             "evil.example?x",
                             "evil.example#x",
                             "evil.example:",
                             "evil.example:0",
                             "evil.example:65536",
                             "evil.example:80:80",
                             "evil.example:8o",
                             "[::1",
                             "[]",
                             "[::1]x",
                             "-evil.example",
                             ".evil.example",
                             "evil..example",
                             "evil_example",
                             "évil.example",
                             "evil.example\r\nX: y"}) {
        EXPECT_FALSE(is_valid_host(host)) << host;
    }
    EXPECT_FALSE(is_valid_host(std::string(256, 'a')));
}

TEST(PublicUrl, IsNormalised) {
    EXPECT_EQ(normalised_public_url("https://api.example.com"), "https://api.example.com");
    EXPECT_EQ(normalised_public_url("https://api.example.com/"), "https://api.example.com");
    EXPECT_EQ(normalised_public_url("HTTPS://api.example.com:8443/engined/"),
              "https://api.example.com:8443/engined");
    EXPECT_EQ(normalised_public_url("http://[::1]:8080"), "http://[::1]:8080");
}

TEST(PublicUrl, RefusesWhatCannotPrefixALink) {
    for (const char* url : {"", "api.example.com", "//api.example.com", "ws://api.example.com",
                            "https://", "https:///path", "https://api.example.com?q",
                            "https://api.example.com/#f", "https://u@api.example.com",
                            "https://api.example.com/a b", "https://api.example.com/a\\b"}) {
        EXPECT_FALSE(normalised_public_url(url).has_value()) << url;
    }
}

TEST(Links, ThePublicUrlWinsOverTheHost) {
    const Links links("https://api.example.com/engined", "127.0.0.1", 8080);
    EXPECT_EQ(links.for_request(request_with_host("other.example:9000"), "/traces/eval_1"),
              "https://api.example.com/engined/traces/eval_1");
    EXPECT_EQ(links.detached("/api/v1/runs/r1"), "https://api.example.com/engined/api/v1/runs/r1");
}

TEST(Links, WithoutAPublicUrlTheRequestsHostIsUsed) {
    const Links links("", "127.0.0.1", 8080);
    EXPECT_EQ(links.for_request(request_with_host("engined.internal:8443"), "/api/v1/runs/r1"),
              "http://engined.internal:8443/api/v1/runs/r1");
    EXPECT_EQ(links.for_request(request_with_host("[::1]:8080"), ""), "http://[::1]:8080");
}

TEST(Links, AMissingRepeatedOrHostileHostFallsBackToTheListenAddress) {
    Links links("", "127.0.0.1", 0);
    links.set_listen_port(41000);
    for (const Request& request :
         {request_with_host(""), request_with_host("evil.example/phish"),
          request_with_host("evil.example x"), request_with_host("a.example", 2)}) {
        EXPECT_EQ(links.for_request(request, "/api/v1/runs/r1"),
                  "http://127.0.0.1:41000/api/v1/runs/r1");
    }
    EXPECT_EQ(links.detached("/traces/eval_1"), "http://127.0.0.1:41000/traces/eval_1");
    EXPECT_EQ(Links("", "::1", 8080).detached("/x"), "http://[::1]:8080/x");
}

}  // namespace
}  // namespace engined::http
