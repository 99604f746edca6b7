#include "http/json_body.hpp"

#include "common/api_error.hpp"

#include <gtest/gtest.h>

namespace engined::http {
namespace {

Request body_request(std::string_view body) {
    return Request(
        Method::post, "/x", body, [](std::string_view) { return std::string_view{}; }, "req_test");
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
    EXPECT_NE(refusal(body, {.max_depth = 64, .max_elements = 6}).find("more than 6 JSON values"),
              std::string::npos);
}

TEST(JsonBody, TheDefaultElementLimitIsOneHundredThousand) {
    std::string at_limit = "[0";  // the array and 99 999 numbers
    for (int i = 1; i < 99'999; ++i) at_limit += ",0";
    at_limit += "]";
    EXPECT_EQ(refusal(at_limit, {}), "accepted");
    EXPECT_NE(refusal(at_limit.substr(0, at_limit.size() - 1) + ",0]", {}).find("100000"),
              std::string::npos);
}

TEST(JsonBody, DepthLimitStillApplies) {
    EXPECT_NE(refusal("[[[1]]]", {.max_depth = 2, .max_elements = 100}).find("deeper than 2"),
              std::string::npos);
}

TEST(JsonBody, TheLargestDoubleIsAcceptedAndOneBeyondIsRefusedWithItsPointer) {
    const auto document = parse_json_body(
        body_request(R"({"w":[1.7976931348623157e308,-1.7976931348623157e308]})"), {});
    EXPECT_EQ(document.at("w").at(0).as_double(), 1.7976931348623157e308);
    for (const std::string body : {R"({"w":[1,1e309]})", R"({"w":[1,-1e400]})"}) {
        try {
            parse_json_body(body_request(body), {});
            ADD_FAILURE() << body << " was accepted";
        } catch (const ApiError& error) {
            EXPECT_EQ(error.http_status(), 400);
            ASSERT_EQ(error.details().size(), 1u);
            EXPECT_EQ(error.details()[0].pointer, "/w/1");
        }
    }
}

TEST(JsonBody, TheOutOfRangePointerEscapesKeys) {
    try {
        parse_json_body(body_request(R"({"a/b":{"c~d":1e999}})"), {});
        ADD_FAILURE() << "accepted";
    } catch (const ApiError& error) {
        ASSERT_EQ(error.details().size(), 1u);
        EXPECT_EQ(error.details()[0].pointer, "/a~1b/c~0d");
    }
}

TEST(JsonBody, BytesAfterTheValueAreRefused) {
    EXPECT_EQ(refusal(std::string("{\"a\":1} \n\t"), {}), "accepted");
    EXPECT_NE(refusal(std::string("{\"a\":1}\0", 8), {}).find("1 bytes after its JSON value"),
              std::string::npos);
    EXPECT_NE(refusal(std::string("{\"a\":1}\0{\"b\":2}", 15), {}).find("8 bytes after"),
              std::string::npos);
}

}  // namespace
}  // namespace engined::http
