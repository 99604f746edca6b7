// core/api — the public HTTP API: which route calls which use case, and how bodies and answers
// are shaped. Knows http/ and runs/; knows nothing of SQL, plugins or Lua.
#pragma once

#include "http/json_body.hpp"
#include "http/router.hpp"
#include "runs/run_service.hpp"

namespace engined::api {

void register_routes(http::Router& router, runs::RunService& runs, const http::JsonLimits& json_limits);

}  // namespace engined::api
