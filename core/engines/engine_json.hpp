// How engines and releases look in the API.
#pragma once

#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace engined::engines {

std::string version_name(int major, int minor);
boost::json::object engine_to_json(const store::EngineRecord& engine);
boost::json::object release_to_json(const store::ReleaseRecord& release);

}  // namespace engined::engines
