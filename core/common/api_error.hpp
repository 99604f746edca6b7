// core/common — small, engine-agnostic building blocks shared by every core component.
// api_error.hpp owns the one error type that carries an HTTP-facing failure across layers;
// core/http turns it into the error envelope, in one place.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace engined {

// One entry of `error.details`: where (a JSON Pointer, or a header/parameter name) and what.
struct ErrorDetail {
    std::string pointer;
    std::string message;
};

class ApiError : public std::runtime_error {
public:
    ApiError(int http_status, std::string code, std::string message,
             std::vector<ErrorDetail> details = {});

    int http_status() const noexcept { return http_status_; }
    const std::string& code() const noexcept { return code_; }
    const std::vector<ErrorDetail>& details() const noexcept { return details_; }

    // Response headers the answer must carry (e.g. Retry-After on 429 and 503).
    using Header = std::pair<std::string, std::string>;
    ApiError& with_header(std::string name, std::string value) {
        headers_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    const std::vector<Header>& headers() const noexcept { return headers_; }

    static ApiError invalid_request(std::string message, std::vector<ErrorDetail> details = {});
    static ApiError unauthorized(std::string message);
    static ApiError forbidden(std::string message);
    static ApiError not_found(std::string message);
    static ApiError method_not_allowed(std::string message);
    static ApiError payload_too_large(std::string message);
    static ApiError contract_violation(std::string message, std::vector<ErrorDetail> details);
    static ApiError unknown_engine_version(std::string message);
    static ApiError rate_limited(std::string message);
    static ApiError unavailable(std::string message);
    static ApiError internal(std::string message);

private:
    int http_status_;
    std::string code_;
    std::vector<ErrorDetail> details_;
    std::vector<Header> headers_;
};

}  // namespace engined
