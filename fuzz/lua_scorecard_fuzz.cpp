// fuzz_lua_scorecard: the Lua source of an engine configuration's scorecard, compiled and run in
// a real Sandbox with small limits the way a configuration check and a run use it: begin_run,
// then weights(bucket, input), adjust(package, ctx) and self_test() when defined. Invariants:
// every failure is a LuaError of a kind the host maps (a compile error only from the
// constructor); a call that succeeded spent no more than the instruction budget (work in C
// library calls included); a breach is sticky for the rest of the run; a result's JSON and
// every error message are valid UTF-8. A script stuck in one C call shows up as a libFuzzer
// timeout.
#include "fuzz_support.hpp"
#include "common/json_text.hpp"
#include "lua/sandbox.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <optional>

namespace {

namespace json = boost::json;
using engined::lua::FailureKind;
using engined::lua::LuaError;

constexpr std::string_view kTarget = "fuzz_lua_scorecard";

engined::lua::Limits small_limits() {
    engined::lua::Limits limits;
    limits.instruction_budget = 200'000;
    limits.memory_bytes = 2u * 1024u * 1024u;
    limits.wall_clock = std::chrono::milliseconds(1000);
    return limits;
}

struct ScorecardCall {
    const char* function;
    const char* arguments;  // JSON array
};

const ScorecardCall kCalls[] = {
    {"weights",
     R"(["balanced", {"coverage_types": ["home", "auto"], "address": {"state": "TX"}}])"},
    {"adjust",
     R"([{"offerings": [{"category": "home", "quality_rating": "A-"}], "providers": ["Openly"],
                   "provider_count": 1, "est_cost_low": 1200, "est_cost_high": 1500},
                  {"bucket": "balanced", "state": "TX"}])"},
    {"self_test", "[]"},
};

void require_readable(const std::string& text, const std::string& what) {
    engined::fuzz::require(engined::invalid_utf8_offset(text) == std::string_view::npos, kTarget,
                           what + " is not valid UTF-8: " + engined::valid_utf8(text));
}

bool is_breach(FailureKind kind) {
    return kind == FailureKind::budget_exceeded || kind == FailureKind::memory_exceeded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using engined::fuzz::require;
    const engined::lua::Limits limits = small_limits();
    std::optional<engined::lua::Sandbox> sandbox;
    try {
        sandbox.emplace(engined::fuzz::as_text(data, size), "scorecard.lua", limits);
    } catch (const LuaError& refused) {
        require(refused.kind() == FailureKind::compile_error ||
                    refused.kind() == FailureKind::memory_exceeded,
                kTarget,
                std::string("compiling failed with ") + std::string(to_string(refused.kind())));
        require_readable(refused.what(), "a compile error");
        return 0;
    }

    std::optional<FailureKind> breach;
    try {
        sandbox->begin_run();
    } catch (const LuaError& failed) {
        require(
            failed.kind() == FailureKind::script_error || is_breach(failed.kind()), kTarget,
            std::string("the top-level code failed with ") + std::string(to_string(failed.kind())));
        require_readable(failed.what(), "an error message");
        if (is_breach(failed.kind())) breach = failed.kind();
    }

    for (const ScorecardCall& call : kCalls) {
        if (!breach && !sandbox->has_function(call.function)) continue;
        try {
            const json::value result =
                sandbox->call(call.function, json::parse(call.arguments).as_array());
            require(!breach, kTarget, std::string(call.function) + " succeeded after a breach");
            require(sandbox->instructions_used() <= limits.instruction_budget, kTarget,
                    std::string(call.function) + " succeeded past the instruction budget (" +
                        std::to_string(sandbox->instructions_used()) + " instructions)");
            require_readable(json::serialize(result), "a result");
        } catch (const LuaError& failed) {
            require(failed.kind() != FailureKind::compile_error, kTarget,
                    "a call failed with compile_error");
            require_readable(failed.what(), "an error message");
            if (breach) {
                require(failed.kind() == *breach, kTarget,
                        std::string("a breach was not sticky: ") +
                            std::string(to_string(failed.kind())));
            } else if (is_breach(failed.kind())) {
                breach = failed.kind();
            }
        }
    }
    return 0;
}
