// The scorecard's optional adjust(package, ctx): a household rule that may veto a package the
// scores alone would recommend. It is opaque to the search, so it is applied the way a broker
// reads a list: packages are offered in ranking order and vetoed ones are passed over until
// max_solutions remain. Both ranking paths do this, so they veto the same packages.
#pragma once

#include "package.hpp"
#include "scoring_host.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engined::placement {

// The reason recorded for a vetoed package.
inline constexpr std::string_view kLuaVeto = "lua_veto";

class PackageAdjuster {
public:
    PackageAdjuster(ScoringHost& host, const boost::json::object& context);

    // The first `wanted` packages of `ranked` (in ranking order) that adjust does not veto.
    // Each vetoed package is traced once (RANK, package_vetoed). Throws RunFailure: lua_error
    // when adjust fails or returns something other than nil or {veto = bool, reason = "..."},
    // lua_budget_exceeded, lua_memory_exceeded.
    std::vector<const Package*> survivors(const std::vector<Package>& ranked, std::size_t wanted);

    std::size_t vetoed_count() const { return vetoed_count_; }

private:
    bool vetoes(const Package& package);
    std::optional<std::string> veto_reason(const Package& package);

    ScoringHost& host_;
    const boost::json::object& context_;
    bool defined_;
    std::map<std::vector<std::uint32_t>, bool> decided_;  // by Package::position: vetoed?
    std::size_t vetoed_count_ = 0;
};

}  // namespace engined::placement
