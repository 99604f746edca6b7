// The framing rules of core/http/framing.hpp on headers Beast's own parser accepted: only a body
// length with one reading passes; every ambiguous or unsupported framing is refused.
#include "http/framing.hpp"

#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

#include <string>

namespace engined::http {
namespace {

namespace bhttp = boost::beast::http;

// The request line and `fields` parsed as Beast parses them in a session (header only).
BeastRequest header_of(const std::string& fields, const std::string& version = "HTTP/1.1") {
    bhttp::request_parser<bhttp::string_body> parser;
    const std::string text =
        "POST /api/v1/engines/default/runs " + version + "\r\nHost: t\r\n" + fields + "\r\n";
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(text), ec);
    EXPECT_FALSE(ec) << "Beast refused the header itself: " << ec.message();
    EXPECT_TRUE(parser.is_header_done());
    return parser.release();
}

// The status and code of the refusal, or 0 when the framing is sound.
std::pair<int, std::string> verdict(const std::string& fields,
                                    const std::string& version = "HTTP/1.1") {
    const auto refusal = framing_error(header_of(fields, version).base());
    if (!refusal) return {0, ""};
    return {refusal->http_status(), refusal->code()};
}

const std::pair<int, std::string> kSound{0, ""};
const std::pair<int, std::string> kBadRequest{400, "invalid_request"};

TEST(Framing, OneContentLengthOrChunkedAloneIsSound) {
    EXPECT_EQ(verdict(""), kSound);
    EXPECT_EQ(verdict("Content-Length: 12\r\n"), kSound);
    EXPECT_EQ(verdict("Transfer-Encoding: chunked\r\n"), kSound);
    EXPECT_EQ(verdict("Transfer-Encoding: Chunked\r\n"), kSound);  // coding names ignore case
}

TEST(Framing, ATransferEncodingThatDoesNotEndInChunkedIsRefused) {
    EXPECT_EQ(verdict("Transfer-Encoding: chunked, identity\r\n"), kBadRequest);
    EXPECT_EQ(verdict("Transfer-Encoding: identity\r\n"), kBadRequest);
    EXPECT_EQ(verdict("Transfer-Encoding: gzip\r\n"), kBadRequest);
    EXPECT_EQ(verdict("Transfer-Encoding: xchunked\r\n"), kBadRequest);
    EXPECT_EQ(verdict("Transfer-Encoding: chunked, chunked\r\n"), kBadRequest);
}

TEST(Framing, TransferEncodingWithContentLengthIsRefusedWhateverTheCoding) {
    EXPECT_EQ(verdict("Transfer-Encoding: gzip\r\nContent-Length: 0\r\n"), kBadRequest);
    EXPECT_EQ(verdict("Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n"), kBadRequest);
    const auto refusal =
        framing_error(header_of("Transfer-Encoding: identity\r\nContent-Length: 3\r\n").base());
    ASSERT_TRUE(refusal);
    EXPECT_NE(std::string(refusal->what()).find("Transfer-Encoding and Content-Length"),
              std::string::npos)
        << refusal->what();
    ASSERT_EQ(refusal->details().size(), 1u);
    EXPECT_EQ(refusal->details()[0].pointer, "Transfer-Encoding");
}

TEST(Framing, ContentLengthSentTwiceOrAsAListIsRefusedEvenWhenTheValuesAgree) {
    EXPECT_EQ(verdict("Content-Length: 5\r\nContent-Length: 5\r\n"), kBadRequest);
    EXPECT_EQ(verdict("Content-Length: 5, 5\r\n"), kBadRequest);
}

TEST(Framing, TransferEncodingInAnHttp10RequestIsRefused) {
    EXPECT_EQ(verdict("Transfer-Encoding: chunked\r\n", "HTTP/1.0"), kBadRequest);
    EXPECT_EQ(verdict("Content-Length: 2\r\n", "HTTP/1.0"), kSound);
}

TEST(Framing, OtherCodingsBeforeChunkedAreNotImplemented) {
    EXPECT_EQ(verdict("Transfer-Encoding: gzip, chunked\r\n"),
              (std::pair<int, std::string>{501, "not_implemented"}));
    EXPECT_EQ(verdict("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
              (std::pair<int, std::string>{501, "not_implemented"}));
}

}  // namespace
}  // namespace engined::http
