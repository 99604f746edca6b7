// An engine contract rendered for people and tools: one Markdown integration guide to paste
// into a developer's or agent's context, and the OpenAPI description of the whole API.
#pragma once

#include <boost/json/object.hpp>

#include <string>

namespace engined::engines {

// `contract` as EngineService::contract answers it.
std::string contract_markdown(const boost::json::object& contract);

// OpenAPI 3.0 for every route, with the run request body typed by `contract` (the default engine's)
// and `server_url` (absolute, without a trailing slash) as its one server.
boost::json::object openapi_document(const boost::json::object& contract, const std::string& server_version,
                                     const std::string& server_url);

}  // namespace engined::engines
