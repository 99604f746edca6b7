// ScoringHost over a real engined::lua::Sandbox (the SDK's test host) with a fixed reference
// time: what the host gives the placement plugin, without the C ABI in between.
#pragma once

#include "lua_test_host.hpp"
#include "scoring_host.hpp"

#include <cstdint>

namespace engined::placement::test {

// 2026-11-23T12:00:00Z: after the Kemper quote in the fixtures expired, before the others do.
inline constexpr std::int64_t kReferenceNowMs = 1'795'435'200'000;

class LuaScoringHost final : public plugin_sdk::test::LuaTestHost<ScoringHost> {
public:
    using LuaTestHost::LuaTestHost;

    std::int64_t now_unix_ms() override { return kReferenceNowMs; }
};

}  // namespace engined::placement::test
