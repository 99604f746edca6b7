#include "http/router.hpp"

#include "common/api_error.hpp"
#include "common/json_text.hpp"
#include "http/error_envelope.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace engined::http {
namespace {

Request make_request(Method method, std::string_view target, std::string_view key = {}) {
    return Request(
        method, target, {},
        [key](std::string_view name) { return name == "X-API-Key" ? key : std::string_view{}; },
        "req_test");
}

auth::Principal authenticate(const Request& request) {
    if (request.header("X-API-Key") != "good") throw ApiError::unauthorized("bad key");
    return {"key_1",      "acme",       "test",       "env_test", {"runs:read"},
            std::nullopt, std::nullopt, std::nullopt, "{}"};
}

Response dispatch(const Router& router, Request request) {
    Response captured;
    router.dispatch(request,
                    Responder([&captured](Response response) { captured = std::move(response); }));
    return captured;
}

std::string error_code_of(const Response& response) {
    return std::string(boost::json::parse(response.body).at("error").at("code").as_string());
}

class RouterTest : public ::testing::Test {
protected:
    RouterTest() : router_(&authenticate) {
        router_.add_sync(Method::get, "/public", "", [](const Request&, const auth::Principal&) {
            return Response::json(200, "{}");
        });
        router_.add_sync(Method::get, "/runs/{run_id}/items/{item}", "runs:read",
                         [](const Request& request, const auth::Principal& caller) {
                             return Response::json(
                                 200, std::string(request.path_param("run_id")) + "," +
                                          std::string(request.path_param("item")) + "," +
                                          caller.organization);
                         });
        router_.add_sync(
            Method::post, "/runs", "runs:write",
            [](const Request&, const auth::Principal&) { return Response::json(202, "{}"); });
        router_.add_sync(Method::get, "/whoami", Router::kAnyValidKey,
                         [](const Request&, const auth::Principal& caller) {
                             return Response::json(200, caller.key_id);
                         });
        router_.add_sync(Method::get, "/boom", "",
                         [](const Request&, const auth::Principal&) -> Response {
                             throw std::runtime_error("secret internals");
                         });
    }
    Router router_;
};

TEST_F(RouterTest, BindsPathParametersAndThePrincipal) {
    const Response response =
        dispatch(router_, make_request(Method::get, "/runs/r1/items/i2?x=1", "good"));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "r1,i2,acme");
}

TEST_F(RouterTest, PublicRoutesNeedNoKey) {
    EXPECT_EQ(dispatch(router_, make_request(Method::get, "/public")).status, 200);
}

TEST_F(RouterTest, AuthenticationFailureIs401) {
    const Response response =
        dispatch(router_, make_request(Method::get, "/runs/r1/items/i2", "bad"));
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(error_code_of(response), "unauthorized");
}

TEST_F(RouterTest, MissingScopeIs403NamingTheScope) {
    const Response response = dispatch(router_, make_request(Method::post, "/runs", "good"));
    EXPECT_EQ(response.status, 403);
    EXPECT_NE(response.body.find("runs:write"), std::string::npos);
}

// A route for any valid key admits a key whatever its scopes (this one lacks runs:write), and
// still refuses a caller without a valid key.
TEST_F(RouterTest, AnyValidKeyRoutesAuthenticateButCheckNoScope) {
    const Response answered = dispatch(router_, make_request(Method::get, "/whoami", "good"));
    EXPECT_EQ(answered.status, 200);
    EXPECT_EQ(answered.body, "key_1");
    for (const char* key : {"", "bad"}) {
        const Response refused = dispatch(router_, make_request(Method::get, "/whoami", key));
        EXPECT_EQ(refused.status, 401) << key;
        EXPECT_EQ(error_code_of(refused), "unauthorized") << key;
    }
}

TEST_F(RouterTest, UnknownPathIs404AndKnownPathWithOtherMethodIs405) {
    EXPECT_EQ(dispatch(router_, make_request(Method::get, "/nowhere")).status, 404);
    EXPECT_EQ(dispatch(router_, make_request(Method::get, "/runs/r1")).status, 404);
    const Response wrong_method = dispatch(router_, make_request(Method::del, "/public"));
    EXPECT_EQ(wrong_method.status, 405);
    EXPECT_EQ(error_code_of(wrong_method), "method_not_allowed");
}

TEST_F(RouterTest, UnexpectedExceptionsBecome500WithoutLeakingTheirText) {
    const Response response = dispatch(router_, make_request(Method::get, "/boom"));
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(error_code_of(response), "internal");
    EXPECT_EQ(response.body.find("secret internals"), std::string::npos);
}

TEST(Request, DecodesQueryParameters) {
    const Request request =
        make_request(Method::get, "/x?status=completed&cursor=c%2012&empty=&plus=a+b");
    std::string value;
    ASSERT_TRUE(request.query_param("status", value));
    EXPECT_EQ(value, "completed");
    ASSERT_TRUE(request.query_param("cursor", value));
    EXPECT_EQ(value, "c 12");
    ASSERT_TRUE(request.query_param("empty", value));
    EXPECT_EQ(value, "");
    ASSERT_TRUE(request.query_param("plus", value));
    EXPECT_EQ(value, "a b");
    EXPECT_FALSE(request.query_param("absent", value));
}

TEST(Responder, AnswersOnlyOnce) {
    int answers = 0;
    Responder responder([&answers](Response) { ++answers; });
    responder.respond(Response::json(200, "{}"));
    responder.fail(std::make_exception_ptr(ApiError::internal("late")));
    EXPECT_EQ(answers, 1);
}

TEST_F(RouterTest, RecordsTheMatchedRoutePatternAndTheCallersKey) {
    const Responder ignore([](Response) {});
    Request matched = make_request(Method::get, "/runs/r1/items/i2", "good");
    router_.dispatch(matched, ignore);
    EXPECT_EQ(matched.route_pattern(), "/runs/{run_id}/items/{item}");
    ASSERT_GE(matched.route_index(), 0);
    EXPECT_EQ(router_.routes().at(static_cast<std::size_t>(matched.route_index())).pattern,
              "/runs/{run_id}/items/{item}");
    EXPECT_EQ(matched.key_id(), "key_1");

    Request anonymous = make_request(Method::get, "/public");
    router_.dispatch(anonymous, ignore);
    EXPECT_EQ(anonymous.route_pattern(), "/public");
    EXPECT_EQ(anonymous.key_id(), "");

    Request unmatched = make_request(Method::get, "/nowhere", "good");
    router_.dispatch(unmatched, ignore);
    EXPECT_EQ(unmatched.route_index(), -1);
    EXPECT_EQ(unmatched.route_pattern(), "");
}

// Error messages quote what the caller sent; a query or path may hold any bytes, and the answer
// must stay JSON (found by fuzz_http_request: GET .../runs?status=queued\xB1...).
TEST(ErrorEnvelope, BytesThatAreNotUtf8AreReplacedSoTheAnswerStaysJson) {
    const Response response = error_response(ApiError::invalid_request(
        "bad \xB1 value", {{"status\xFF", "got 'queued\xB1\xB1' and 'caf\xC3\xA9'"}}));
    boost::system::error_code ec;
    const boost::json::value body = boost::json::parse(response.body, ec);
    ASSERT_FALSE(ec) << response.body;
    EXPECT_EQ(body.at("error").at("message").as_string(), "bad \uFFFD value");
    const auto& detail = body.at("error").at("details").as_array().at(0);
    EXPECT_EQ(detail.at("pointer").as_string(), "status\uFFFD");
    EXPECT_EQ(detail.at("message").as_string(), "got 'queued\uFFFD\uFFFD' and 'caf\u00E9'");
}

TEST(ValidUtf8, KeepsWellFormedTextAndReplacesEachBadByte) {
    EXPECT_EQ(valid_utf8("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
              "plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    EXPECT_EQ(valid_utf8(std::string_view("a\0b", 3)), std::string_view("a\0b", 3));
    const std::string replacement = "\xEF\xBF\xBD";
    EXPECT_EQ(valid_utf8("\xC0\xAF"), replacement + replacement);                    // overlong '/'
    EXPECT_EQ(valid_utf8("\xED\xA0\x80"), replacement + replacement + replacement);  // a surrogate
    EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"),
              replacement + replacement + replacement + replacement);     // past U+10FFFF
    EXPECT_EQ(valid_utf8("x\xE2\x82"), "x" + replacement + replacement);  // truncated at the end
}

}  // namespace
}  // namespace engined::http
