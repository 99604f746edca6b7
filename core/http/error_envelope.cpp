#include "http/error_envelope.hpp"

#include "common/api_error.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "store/store.hpp"

#include <boost/json.hpp>

namespace engined::http {

Response error_response(const ApiError& error) {
    boost::json::array details;
    for (const ErrorDetail& detail : error.details()) {
        details.push_back(
            {{"pointer", valid_utf8(detail.pointer)}, {"message", valid_utf8(detail.message)}});
    }
    // Messages quote what the caller sent, and a path or query may hold any bytes.
    boost::json::object body{{"error",
                              {{"code", error.code()},
                               {"message", valid_utf8(error.what())},
                               {"details", std::move(details)}}}};
    Response response = Response::json(error.http_status(), compact_json(body));
    response.headers.insert(response.headers.end(), error.headers().begin(), error.headers().end());
    return response;
}

Response error_response(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const ApiError& api_error) {
        return error_response(api_error);
    } catch (const store::IdempotencyKeyTaken&) {
        // Two requests with one key raced: the first one's write won; this one made nothing.
        return error_response(
            ApiError(409, "idempotency_conflict",
                     "another request with this Idempotency-Key is being processed or was "
                     "answered; retry with the same key to receive its answer"));
    } catch (const store::StoreUnavailable& unavailable) {
        log::error("store unavailable", {{"detail", unavailable.what()}});
        Response response = error_response(ApiError::unavailable(
            "the run store cannot be reached or written right now; retry later"));
        response.headers.emplace_back("Retry-After", "5");
        return response;
    } catch (const std::exception& unexpected) {
        log::error("unhandled exception", {{"detail", unexpected.what()}});
    } catch (...) {
        log::error("unhandled non-standard exception");
    }
    return error_response(ApiError::internal(
        "an internal error occurred; the server log has it under this response's X-Request-Id"));
}

}  // namespace engined::http
