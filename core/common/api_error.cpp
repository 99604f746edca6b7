#include "common/api_error.hpp"

#include <utility>

namespace engined {

ApiError::ApiError(int http_status, std::string code, std::string message,
                   std::vector<ErrorDetail> details)
    : std::runtime_error(std::move(message)),
      http_status_(http_status),
      code_(std::move(code)),
      details_(std::move(details)) {}

ApiError ApiError::invalid_request(std::string message, std::vector<ErrorDetail> details) {
    return {400, "invalid_request", std::move(message), std::move(details)};
}
ApiError ApiError::unauthorized(std::string message) {
    return {401, "unauthorized", std::move(message)};
}
ApiError ApiError::forbidden(std::string message) {
    return {403, "forbidden", std::move(message)};
}
ApiError ApiError::not_found(std::string message) {
    return {404, "not_found", std::move(message)};
}
ApiError ApiError::method_not_allowed(std::string message) {
    return {405, "method_not_allowed", std::move(message)};
}
ApiError ApiError::payload_too_large(std::string message) {
    return {413, "payload_too_large", std::move(message)};
}
ApiError ApiError::contract_violation(std::string message, std::vector<ErrorDetail> details) {
    return {422, "contract_violation", std::move(message), std::move(details)};
}
ApiError ApiError::unknown_engine_version(std::string message) {
    return {422, "unknown_engine_version", std::move(message)};
}
ApiError ApiError::rate_limited(std::string message) {
    return {429, "rate_limited", std::move(message)};
}
ApiError ApiError::unavailable(std::string message) {
    return {503, "unavailable", std::move(message)};
}
ApiError ApiError::internal(std::string message) {
    return {500, "internal", std::move(message)};
}

}  // namespace engined
