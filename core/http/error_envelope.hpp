// The one place where failures become HTTP answers:
// {"error": {"code": "...", "message": "...", "details": [...]}}.
#pragma once

#include "http/message.hpp"

#include <exception>

namespace engined {
class ApiError;
}

namespace engined::http {

Response error_response(const ApiError& error);

// Maps any exception: ApiError as it says, store unavailability to 503 `unavailable`,
// anything else to 500 `internal` (its text is logged, never shown to the client).
Response error_response(std::exception_ptr error);

}  // namespace engined::http
