// The status line and header fields the session writes before a response's body.
#include "http/response_head.hpp"

#include <gtest/gtest.h>

namespace engined::http {
namespace {

TEST(ResponseHead, NamesTheStatusTheTypeTheRequestAndTheBodyLength) {
    Response response = Response::json(202, R"({"id":"run_1"})");
    response.headers.emplace_back("Location", "/api/v1/runs/run_1");
    EXPECT_EQ(response_head(response, {.request_id = "req_1", .version = 11, .keep_alive = true}),
              "HTTP/1.1 202 Accepted\r\n"
              "Server: engined\r\n"
              "Content-Type: application/json\r\n"
              "X-Request-Id: req_1\r\n"
              "Location: /api/v1/runs/run_1\r\n"
              "Content-Length: 14\r\n"
              "\r\n");
}

TEST(ResponseHead, SaysConnectionOnlyWhereTheVersionsDefaultDiffers) {
    const Response response = Response::json(200, "{}");
    const auto head = [&](unsigned version, bool keep_alive) {
        return response_head(response,
                             {.request_id = "r", .version = version, .keep_alive = keep_alive});
    };
    EXPECT_EQ(head(11, true).find("Connection:"), std::string::npos);
    EXPECT_NE(head(11, false).find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_TRUE(head(10, true).starts_with("HTTP/1.0 200 OK\r\n"));
    EXPECT_NE(head(10, true).find("\r\nConnection: keep-alive\r\n"), std::string::npos);
    EXPECT_EQ(head(10, false).find("Connection:"), std::string::npos);
}

TEST(ResponseHead, AStatusWithoutABodyHasNoContentLength) {
    for (const int status : {204, 304}) {
        Response response;
        response.status = status;
        const std::string head = response_head(response, {.request_id = "r"});
        EXPECT_EQ(head.find("Content-Length"), std::string::npos) << status;
        EXPECT_FALSE(status_has_body(status));
    }
    EXPECT_TRUE(status_has_body(200));
    EXPECT_TRUE(status_has_body(404));
    EXPECT_NE(response_head(Response::json(404, ""), {.request_id = "r"})
                  .find("\r\nContent-Length: 0\r\n"),
              std::string::npos);
}

TEST(ResponseHead, ALineBreakInAFieldCannotStartAnotherField) {
    Response response = Response::json(200, "{}");
    response.headers.emplace_back("Location", "/a\r\nSet-Cookie: x=1");
    const std::string head = response_head(response, {.request_id = "r"});
    EXPECT_NE(head.find("\r\nLocation: /a  Set-Cookie: x=1\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("\r\nSet-Cookie"), std::string::npos);
}

}  // namespace
}  // namespace engined::http
