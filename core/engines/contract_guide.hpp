// An engine contract rendered for people and tools: one Markdown integration guide to paste
// into a developer's or agent's context (the OpenAPI documents are api/openapi.hpp's).
#pragma once

#include <boost/json/object.hpp>

#include <string>

namespace engined::engines {

// `contract` as EngineService::contract answers it.
std::string contract_markdown(const boost::json::object& contract);

}  // namespace engined::engines
