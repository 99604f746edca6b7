// How engines and releases look in the API.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <utility>

namespace engined::engines {

std::string version_name(int major, int minor);
// "1.3" → {1, 3}; nullopt for anything else (including "1.x").
std::optional<std::pair<int, int>> exact_version(const std::string& text);
boost::json::object engine_to_json(const store::EngineRecord& engine);
boost::json::object release_to_json(const store::ReleaseRecord& release);
// {engine, version, from_version, percent, state, opened_by, opened_at, updated_at, closed_at}
boost::json::object rollout_to_json(const store::RolloutRecord& rollout);

}  // namespace engined::engines
