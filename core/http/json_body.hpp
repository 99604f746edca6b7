// Request bodies as JSON: one parser with the nesting and element-count limits, one error for
// bad JSON.
#pragma once

#include "common/json_text.hpp"
#include "http/message.hpp"

#include <boost/json/value.hpp>

#include <cstddef>

namespace engined::http {

struct JsonLimits {
    std::size_t max_depth = 64;
    // Values in the whole document: every object, array, string, number, boolean and null.
    std::size_t max_elements = 100'000;
};

// Parses the request body; throws ApiError(400 invalid_request) naming what is wrong and where.
// `storage`: where the tree is allocated (e.g. a JsonArena of the handler); default: the heap.
boost::json::value parse_json_body(const Request& request, const JsonLimits& limits,
                                   boost::json::storage_ptr storage = {});

// A submit's body parsed into an arena on the handler's stack: its tree is read, moved into the
// stored request and serialised before the handler returns, then freed at once.
using RequestJsonArena = JsonArena<16 * 1024>;

}  // namespace engined::http
