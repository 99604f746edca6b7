// The console's files as engined serves them: real server on loopback, the files compiled into
// the binary, with their content types and security headers.
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace engined::testing {
namespace {

class ConsoleTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new TestServer(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static TestServer* server_;
    http::Client client_ = server_->client();
};

TestServer* ConsoleTest::server_ = nullptr;

void expect_console_headers(const http::ClientResponse& response) {
    const std::string policy = response.header("Content-Security-Policy");
    EXPECT_NE(policy.find("default-src 'none'"), std::string::npos) << policy;
    EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
    EXPECT_NE(policy.find("style-src 'self'"), std::string::npos) << policy;
    EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
    EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
    EXPECT_EQ(policy.find("unsafe-eval"), std::string::npos) << policy;
    EXPECT_EQ(response.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(response.header("X-Frame-Options"), "DENY");
    EXPECT_EQ(response.header("Cache-Control"), "no-cache");
}

TEST_F(ConsoleTest, PageIsServedWithoutAKeyAtBothSpellings) {
    for (const char* target : {"/console/", "/console"}) {
        const auto response = client_.request("GET", target);
        ASSERT_EQ(response.status, 200) << target;
        EXPECT_EQ(response.header("Content-Type"), "text/html; charset=utf-8");
        expect_console_headers(response);
        EXPECT_NE(response.body.find("<script src=\"/console/console.js\""), std::string::npos);
        EXPECT_NE(response.body.find("href=\"/console/console.css\""), std::string::npos);
    }
}

TEST_F(ConsoleTest, StylesheetAndScriptHaveTheirContentTypes) {
    const auto css = client_.request("GET", "/console/console.css");
    ASSERT_EQ(css.status, 200);
    EXPECT_EQ(css.header("Content-Type"), "text/css; charset=utf-8");
    expect_console_headers(css);
    const auto js = client_.request("GET", "/console/console.js");
    ASSERT_EQ(js.status, 200);
    EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
    expect_console_headers(js);
    EXPECT_NE(js.body.find("sessionStorage"), std::string::npos);
}

// What the policy forbids is not in the files: no inline script, handler or style attribute, and
// no HTML parsed from strings.
TEST_F(ConsoleTest, FilesNeedNothingThePolicyForbids) {
    const std::string page = client_.request("GET", "/console/").body;
    EXPECT_FALSE(
        std::regex_search(page, std::regex("<script(?![^>]*\\bsrc=)", std::regex::ECMAScript)));
    EXPECT_FALSE(
        std::regex_search(page, std::regex("\\s(on[a-z]+|style)\\s*=", std::regex::icase)));
    EXPECT_EQ(page.find("<style"), std::string::npos);
    const std::string script = client_.request("GET", "/console/console.js").body;
    for (const char* sink :
         {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("}) {
        EXPECT_EQ(script.find(sink), std::string::npos) << sink;
    }
}

TEST_F(ConsoleTest, UnchangedFilesAnswer304ToTheirETag) {
    const auto first = client_.request("GET", "/console/console.js");
    const std::string etag = first.header("ETag");
    ASSERT_FALSE(etag.empty());
    const auto again = client_.request("GET", "/console/console.js", "", {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    const auto changed =
        client_.request("GET", "/console/console.js", "", {{"If-None-Match", "\"other\""}});
    EXPECT_EQ(changed.status, 200);
    EXPECT_EQ(changed.body, first.body);
    EXPECT_NE(client_.request("GET", "/console/console.css").header("ETag"), etag);
}

TEST_F(ConsoleTest, UnknownFileIs404InTheErrorEnvelope) {
    for (const char* target :
         {"/console/missing.js", "/console/..%2Fapp.cpp", "/console/index.html/x"}) {
        const ApiResponse response = call(client_, "GET", target, "");
        EXPECT_EQ(response.status, 404) << target;
        EXPECT_EQ(response.body.at("error").at("code").as_string(), "not_found") << target;
    }
    EXPECT_EQ(client_.request("POST", "/console/console.js").status, 405);
}

}  // namespace
}  // namespace engined::testing
