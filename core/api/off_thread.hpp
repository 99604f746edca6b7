// Answering a request from the app's check pool (a BoundedExecutor) rather than the HTTP thread
// that read it: for routes whose work may run long — replays, which execute an engine, and the
// configuration checks of validate, PUT config and publish, which compile schemas and run Lua.
#pragma once

#include "auth/principal.hpp"
#include "http/message.hpp"

#include <functional>

#include "common/bounded_executor.hpp"

namespace engined::api {

// Queues `work` on `pool` under the caller's key; its Response, or the error it throws, goes to
// `responder`. `work` must own what it reads: the request is gone by the time it runs. Throws
// ApiError 503 `unavailable` (pool queue full) or 429 `too_many_concurrent_requests` (the key
// holds its share), each with Retry-After, when the pool refuses.
void answer_off_thread(BoundedExecutor& pool, const auth::Principal& caller,
                       const http::Responder& responder, std::function<http::Response()> work);

// The ApiError 503 / 429 above for a refused admission; nothing when accepted.
void refuse_unless_accepted(const BoundedExecutor& pool, BoundedExecutor::Admission admission);

}  // namespace engined::api
