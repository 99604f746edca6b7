#include "api/off_thread.hpp"

#include "common/api_error.hpp"
#include "common/bounded_executor.hpp"

#include <string>

namespace engined::api {

void answer_off_thread(BoundedExecutor& pool, const auth::Principal& caller, const http::Responder& responder,
                       std::function<http::Response()> work) {
    const auto admission = pool.submit(caller.key_id, [responder, work = std::move(work)] {
        try {
            responder.respond(work());
        } catch (...) {
            responder.fail(std::current_exception());
        }
    });
    switch (admission) {
        case BoundedExecutor::Admission::accepted:
            return;
        case BoundedExecutor::Admission::queue_full:
            throw ApiError::unavailable("the server is busy: " + std::to_string(pool.limits().queue) +
                                        " replays and configuration checks are waiting; retry shortly")
                .with_header("Retry-After", "1");
        case BoundedExecutor::Admission::key_busy:
            throw ApiError(429, "too_many_concurrent_requests",
                           "this API key already has " + std::to_string(pool.limits().per_key) +
                               " replays or configuration checks in progress; retry when one has answered")
                .with_header("Retry-After", "1");
    }
}

}  // namespace engined::api
