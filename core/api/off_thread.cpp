#include "api/off_thread.hpp"

#include "common/api_error.hpp"
#include "common/bounded_executor.hpp"

#include <memory>
#include <string>

namespace engined::api {

void answer_off_thread(BoundedExecutor& pool, const auth::Principal& caller,
                       const http::Responder& responder, std::function<http::Response()> work) {
    // The answer leaves after the key's place is given back, so a client that sends its next
    // check as soon as it has this answer is not refused for the one just answered.
    auto answer = std::make_shared<std::function<void()>>();
    const auto admission = pool.submit(
        caller.key_id,
        [answer, responder, work = std::move(work)] {
            try {
                *answer = [responder, response = work()] { responder.respond(response); };
            } catch (...) {
                *answer = [responder, failure = std::current_exception()] {
                    responder.fail(failure);
                };
            }
        },
        [answer] { (*answer)(); });
    refuse_unless_accepted(pool, admission);
}

void refuse_unless_accepted(const BoundedExecutor& pool, BoundedExecutor::Admission admission) {
    switch (admission) {
        case BoundedExecutor::Admission::accepted:
            return;
        case BoundedExecutor::Admission::queue_full:
            throw ApiError::unavailable(
                "the server is busy: " + std::to_string(pool.limits().queue) +
                " replays and configuration checks are waiting; retry shortly")
                .with_header("Retry-After", "1");
        case BoundedExecutor::Admission::key_busy:
            throw ApiError(
                429, "too_many_concurrent_requests",
                "this API key already has " + std::to_string(pool.limits().per_key) +
                    " replays or configuration checks in progress; retry when one has answered")
                .with_header("Retry-After", "1");
    }
}

}  // namespace engined::api
