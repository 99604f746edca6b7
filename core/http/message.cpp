#include "http/message.hpp"

#include "http/error_envelope.hpp"

namespace engined::http {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+') {
            out += ' ';
        } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
                   hex_value(in[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        } else {
            out += in[i];
        }
    }
    return out;
}

}  // namespace

std::string_view to_string(Method method) {
    switch (method) {
        case Method::get:
            return "GET";
        case Method::post:
            return "POST";
        case Method::put:
            return "PUT";
        case Method::patch:
            return "PATCH";
        case Method::del:
            return "DELETE";
        case Method::head:
            return "HEAD";
        case Method::options:
            return "OPTIONS";
        case Method::other:
            break;
    }
    return "OTHER";
}

Request::Request(Method method, std::string_view target, std::string_view body,
                 HeaderLookup headers, std::string request_id)
    : method_(method),
      body_(body),
      headers_(std::move(headers)),
      request_id_(std::move(request_id)) {
    const auto question = target.find('?');
    path_ = target.substr(0, question);
    if (question != std::string_view::npos) query_ = target.substr(question + 1);
}

bool Request::query_param(std::string_view name, std::string& value) const {
    std::string_view rest = query_;
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        const auto eq = pair.find('=');
        if (percent_decode(pair.substr(0, eq)) == name) {
            value =
                eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
            return true;
        }
    }
    return false;
}

std::string_view Request::path_param(std::string_view name) const {
    for (const auto& [key, value] : path_params_) {
        if (key == name) return value;
    }
    return {};
}

Response Response::json(int status, std::string body) {
    Response response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

void Responder::fail(std::exception_ptr error) const {
    respond(error_response(error));
}

}  // namespace engined::http
