// core/console — the web console: its pages (HTML, CSS, JavaScript kept in core/console/assets/
// and compiled into the binary) served at /console/ with their security and caching headers.
// Knows http/ only: the pages sign in with an API key and call the public /api/v1 routes like any
// other client, so scopes, organisations and environments apply exactly as on the API.
#pragma once

#include "http/router.hpp"

namespace engined::console {

// GET /console (and /console/): the page; GET /console/{file}: its stylesheet and script. No key
// needed — the files hold no data. Unknown files answer 404 in the error envelope.
void register_console_routes(http::Router& router);

}  // namespace engined::console
