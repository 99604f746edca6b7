#include "http/json_body.hpp"

#include "common/api_error.hpp"

#include <gtest/gtest.h>

namespace engined::http {
namespace {

Request body_request(std::string_view body) {
    return Request(Method::post, "/x", body, [](std::string_view) { return std::string_view{}; }, "req_test");
}

std::string refusal(std::string_view body, const JsonLimits& limits) {
    try {
        parse_json_body(body_request(body), limits);
    } catch (const ApiError& error) {
        EXPECT_EQ(error.http_status(), 400);
        EXPECT_EQ(error.code(), "invalid_request");
        return error.what();
    }
    return "accepted";
}

TEST(JsonBody, CountsEveryValueAgainstTheElementLimit) {
    // {"a":[1,"x",null],"b":{"c":true}}: the object, the array, 1, "x", null, the inner object, true.
    const std::string body = R"({"a":[1,"x",null],"b":{"c":true}})";
    EXPECT_EQ(refusal(body, {.max_depth = 64, .max_elements = 7}), "accepted");
    EXPECT_NE(refusal(body, {.max_depth = 64, .max_elements = 6}).find("more than 6 JSON values"), std::string::npos);
}

TEST(JsonBody, TheDefaultElementLimitIsOneHundredThousand) {
    std::string at_limit = "[0";  // the array and 99 999 numbers
    for (int i = 1; i < 99'999; ++i) at_limit += ",0";
    at_limit += "]";
    EXPECT_EQ(refusal(at_limit, {}), "accepted");
    EXPECT_NE(refusal(at_limit.substr(0, at_limit.size() - 1) + ",0]", {}).find("100000"), std::string::npos);
}

TEST(JsonBody, DepthLimitStillApplies) {
    EXPECT_NE(refusal("[[[1]]]", {.max_depth = 2, .max_elements = 100}).find("deeper than 2"), std::string::npos);
}

}  // namespace
}  // namespace engined::http
