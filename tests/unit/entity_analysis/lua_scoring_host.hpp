// ScoringHost over a real engined::lua::Sandbox (the SDK's test host) with pools served from
// memory: what the host gives the entity-analysis plugin, without the C ABI in between.
#pragma once

#include "lua_test_host.hpp"
#include "scoring_host.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <map>
#include <string>
#include <string_view>

namespace engined::entity_analysis::test {

class LuaScoringHost final : public plugin_sdk::test::LuaTestHost<ScoringHost> {
public:
    using LuaTestHost::LuaTestHost;

    // Serves `pool` as the dataset ("pool", snapshot).
    void add_pool(const std::string& snapshot, const boost::json::array& pool) {
        pools_[snapshot] = boost::json::serialize(pool);
    }

    std::string load_dataset(std::string_view kind, std::string_view id) override {
        ++dataset_loads_;
        const auto found = pools_.find(std::string(id));
        if (kind != "pool" || found == pools_.end()) {
            throw DatasetMissing("no " + std::string(kind) + " dataset " + std::string(id));
        }
        return found->second;
    }

    int dataset_loads() const { return dataset_loads_; }

private:
    std::map<std::string, std::string> pools_;
    int dataset_loads_ = 0;
};

}  // namespace engined::entity_analysis::test
