// fuzz_lua_marshalling: JSON → Lua → JSON through core/lua/json_bridge inside a real Sandbox
// (default limits), the way the host hands a request to a script: check_enters_lua first, then
// an identity function called through Sandbox::call. Invariant: a value Lua accepts comes back
// as the documented conversions predict (json_bridge.hpp): null members are dropped, an array
// keeps its elements up to the first null and must have no later element (a hole is refused on
// the way back), an empty array or object comes back as {}, an integer above INT64_MAX as a
// double. A refusal must be LuaError(bad_value), or a breach of the sandbox's memory cap.
#include "fuzz_support.hpp"
#include "lua/json_bridge.hpp"
#include "lua/sandbox.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <limits>
#include <optional>

namespace {

namespace json = boost::json;
using engined::lua::FailureKind;
using engined::lua::LuaError;

constexpr std::string_view kTarget = "fuzz_lua_marshalling";

// What the value becomes after the trip, or nullopt when the trip must be refused.
std::optional<json::value> expected_after_trip(const json::value& value) {
    switch (value.kind()) {
        case json::kind::uint64:
            if (value.get_uint64() >
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                return json::value(static_cast<double>(value.get_uint64()));
            }
            return json::value(static_cast<std::int64_t>(value.get_uint64()));
        case json::kind::array: {
            json::array elements;
            bool after_hole = false;
            for (const auto& element : value.get_array()) {
                if (element.is_null()) {
                    after_hole = true;
                    continue;
                }
                if (after_hole) return std::nullopt;
                auto converted = expected_after_trip(element);
                if (!converted) return std::nullopt;
                elements.push_back(std::move(*converted));
            }
            if (elements.empty()) return json::value(json::object{});
            return json::value(std::move(elements));
        }
        case json::kind::object: {
            json::object members;
            for (const auto& [key, member] : value.get_object()) {
                if (member.is_null()) continue;
                auto converted = expected_after_trip(member);
                if (!converted) return std::nullopt;
                members.insert_or_assign(key, std::move(*converted));
            }
            return json::value(std::move(members));
        }
        default:
            return value;
    }
}

engined::lua::Sandbox& identity_sandbox() {
    static engined::lua::Sandbox sandbox("function identity(value) return value end",
                                         "fuzz_identity");
    return sandbox;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using engined::fuzz::require;
    boost::system::error_code ec;
    json::parse_options options;
    options.max_depth = engined::lua::kMaxNestingDepth + 2;  // past the bridge's limit, to test it
    const json::value input = json::parse(engined::fuzz::as_text(data, size), ec, {}, options);
    if (ec) return 0;

    const engined::lua::Limits limits;
    try {
        engined::lua::check_enters_lua(input, limits.max_string_bytes);
    } catch (const LuaError& refused) {
        require(refused.kind() == FailureKind::bad_value, kTarget,
                "check_enters_lua refused with another kind");
        return 0;
    }

    auto& sandbox = identity_sandbox();
    sandbox.begin_run();
    const auto expected = expected_after_trip(input);
    std::optional<json::value> returned;
    try {
        returned = sandbox.call("identity", json::array{input});
    } catch (const LuaError& refused) {
        if (refused.kind() == FailureKind::memory_exceeded) return 0;
        require(refused.kind() == FailureKind::bad_value, kTarget,
                std::string("unexpected failure: ") + refused.what());
        require(!expected, kTarget,
                "refused a value that has a documented conversion: " + json::serialize(input) +
                    " (" + refused.what() + ")");
        return 0;
    }
    require(expected.has_value(), kTarget,
            "accepted a value with a hole: " + json::serialize(input));
    require(*returned == *expected, kTarget,
            "trip changed " + json::serialize(input) + " into " + json::serialize(*returned) +
                ", expected " + json::serialize(*expected));
    return 0;
}
