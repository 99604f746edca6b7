// An engine contract rendered for people and tools: one Markdown integration guide to paste
// into a developer's or agent's context (the OpenAPI documents are api/openapi.hpp's).
#pragma once

#include <boost/json/object.hpp>

#include <string>

namespace engined::engines {

// How much of the contract the guide shows: `compact` (the default, small enough for an agent's
// prompt) abbreviates the examples and leaves out the response schema; `full` keeps everything.
enum class GuideDetail { compact, full };

// `contract` as EngineService::contract answers it.
std::string contract_markdown(const boost::json::object& contract, GuideDetail detail);

}  // namespace engined::engines
