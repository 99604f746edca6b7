#include "http/framing.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <iterator>
#include <string>

namespace engined::http {
namespace {

namespace bhttp = boost::beast::http;

ApiError bad_framing(const std::string& message, const char* header) {
    return ApiError::invalid_request("malformed HTTP request: " + message, {{header, message}});
}

}  // namespace

std::optional<ApiError> framing_error(const BeastRequest::header_type& header) {
    const auto lengths = header.equal_range(bhttp::field::content_length);
    const auto length_fields = std::distance(lengths.first, lengths.second);
    if (length_fields > 1 || (length_fields == 1 && lengths.first->value().find(',') !=
                                                        boost::beast::string_view::npos)) {
        return bad_framing("Content-Length must be sent once, as one number", "Content-Length");
    }

    // Several Transfer-Encoding fields read as one comma-separated list of codings.
    const auto encodings = header.equal_range(bhttp::field::transfer_encoding);
    if (encodings.first == encodings.second) return std::nullopt;
    if (length_fields > 0) {
        return bad_framing("Transfer-Encoding and Content-Length together are ambiguous; send one",
                           "Transfer-Encoding");
    }
    if (header.version() < 11) {
        return bad_framing("Transfer-Encoding is not allowed in an HTTP/1.0 request",
                           "Transfer-Encoding");
    }
    std::size_t codings = 0;
    std::size_t chunked = 0;
    boost::beast::string_view last;
    for (auto field = encodings.first; field != encodings.second; ++field) {
        for (const auto coding : bhttp::token_list(field->value())) {
            ++codings;
            last = coding;
            if (boost::beast::iequals(coding, "chunked")) ++chunked;
        }
    }
    // chunked applied twice, or not last, leaves the body's end unknown.
    if (chunked != 1 || !boost::beast::iequals(last, "chunked")) {
        return bad_framing("the final Transfer-Encoding must be chunked, applied once",
                           "Transfer-Encoding");
    }
    if (codings > 1) {
        return ApiError(501, "not_implemented",
                        "Transfer-Encoding other than chunked alone is not supported; send the "
                        "body uncompressed",
                        {{"Transfer-Encoding", "only chunked is supported"}});
    }
    return std::nullopt;
}

}  // namespace engined::http
