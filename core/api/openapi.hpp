// The OpenAPI 3.0.3 descriptions engined serves: the platform document (every route the routers
// serve, at GET /api/v1/openapi.json) and one per engine (that engine's contract as the request and
// response schemas of its run routes, at GET /api/v1/engines/{slug}/openapi.json). Knows the
// routes' shapes and JSON Schema; knows nothing of services or the store.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>

namespace engined::api {

// Every operation of the public and metrics listeners; `server_url` is absolute, without a
// trailing slash, and becomes the document's one server.
boost::json::object platform_openapi(const std::string& server_version,
                                     const std::string& server_url);

// The run routes of the engine `contract` describes (as EngineService::contract answers it, pinned
// or not), with its request and response schemas as components.
boost::json::object engine_openapi(const boost::json::object& contract,
                                   const std::string& server_version,
                                   const std::string& server_url);

// A contract's JSON Schema (draft-07) as an OpenAPI 3.0 Schema Object: a `null` in `type` becomes
// `nullable`, `const` a one-value `enum`, numeric exclusive bounds the boolean form, and keywords
// OpenAPI 3.0 lacks (`$id`, `$schema`, `if`, `patternProperties`, …) are dropped, so the schema
// admits at least what the contract admits. "#/definitions/x" references become
// "#/components/schemas/<definitions_prefix>x".
boost::json::value openapi_schema(const boost::json::value& schema,
                                  const std::string& definitions_prefix);

}  // namespace engined::api
