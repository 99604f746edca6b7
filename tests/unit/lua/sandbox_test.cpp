#include "lua/json_bridge.hpp"
#include "lua/sandbox.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace engined::lua {
namespace {

namespace json = boost::json;

Limits small_limits() {
    Limits limits;
    limits.instruction_budget = 2'000'000;
    limits.memory_bytes = 4u * 1024u * 1024u;
    limits.wall_clock = std::chrono::milliseconds(5000);
    return limits;
}

std::unique_ptr<Sandbox> started(std::string_view source, Limits limits = small_limits()) {
    auto sandbox = std::make_unique<Sandbox>(source, "scorecard", limits);
    sandbox->begin_run();
    return sandbox;
}

// The failure `action` ends with, including its message; fails the test when it succeeds.
LuaError failure_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const LuaError& error) {
        return error;
    }
    ADD_FAILURE() << "expected a LuaError";
    return LuaError(FailureKind::script_error, "none");
}

FailureKind failure_kind(Sandbox& sandbox, std::string_view function, json::array args = {}) {
    return failure_of([&] { sandbox.call(function, args); }).kind();
}

TEST(Sandbox, RunawayLoopIsStoppedByTheInstructionBudget) {
    auto sandbox = started("function spin() while true do end end");
    EXPECT_EQ(failure_kind(*sandbox, "spin"), FailureKind::budget_exceeded);
    EXPECT_GT(sandbox->instructions_used(), small_limits().instruction_budget);
}

TEST(Sandbox, WallClockCeilingStopsARun) {
    Limits limits = small_limits();
    limits.instruction_budget = UINT64_MAX;
    limits.wall_clock = std::chrono::milliseconds(50);
    auto sandbox = started("function spin() while true do end end", limits);
    const LuaError error = failure_of([&] { sandbox->call("spin", {}); });
    EXPECT_EQ(error.kind(), FailureKind::budget_exceeded);
    EXPECT_NE(std::string(error.what()).find("wall-clock"), std::string::npos) << error.what();
}

TEST(Sandbox, PcallCannotSwallowABreachAndTheBreachIsSticky) {
    auto sandbox = started(R"(
        function swallow()
            pcall(function() while true do end end)
            function escaped() end
        end
        function keep_trying()
            while true do pcall(function() while true do end end) end
        end
        function answer() return 42 end
    )");
    EXPECT_EQ(failure_kind(*sandbox, "swallow"), FailureKind::budget_exceeded);
    EXPECT_FALSE(sandbox->has_function("escaped"));
    EXPECT_EQ(failure_kind(*sandbox, "answer"), FailureKind::budget_exceeded);

    sandbox->begin_run();
    EXPECT_EQ(failure_kind(*sandbox, "keep_trying"), FailureKind::budget_exceeded);
    EXPECT_EQ(failure_kind(*sandbox, "answer"), FailureKind::budget_exceeded);

    sandbox->begin_run();
    EXPECT_EQ(sandbox->call("answer", {}), json::value(42));
    // The hook must still be armed after a breach was raised from it.
    EXPECT_EQ(failure_kind(*sandbox, "swallow"), FailureKind::budget_exceeded);
}

TEST(Sandbox, CoroutineLoopsAreStopped) {
    auto sandbox = started(R"(
        function resumed()
            local co = coroutine.create(function() while true do end end)
            coroutine.resume(co)
            function escaped() end
        end
        function wrapped()
            local ok = pcall(coroutine.wrap(function() while true do end end))
            return "escaped"
        end
        function yielding()
            local co = coroutine.wrap(function() while true do coroutine.yield() end end)
            while true do co() end
        end
    )");
    EXPECT_EQ(failure_kind(*sandbox, "resumed"), FailureKind::budget_exceeded);
    EXPECT_FALSE(sandbox->has_function("escaped"));
    sandbox->begin_run();
    EXPECT_EQ(failure_kind(*sandbox, "wrapped"), FailureKind::budget_exceeded);
    sandbox->begin_run();
    EXPECT_EQ(failure_kind(*sandbox, "yielding"), FailureKind::budget_exceeded);
}

TEST(Sandbox, XpcallMessageHandlerLoopIsStopped) {
    auto sandbox = started(R"(
        function handler_spins()
            return xpcall(function() while true do end end, function() while true do end end)
        end
    )");
    EXPECT_EQ(failure_kind(*sandbox, "handler_spins"), FailureKind::budget_exceeded);
}

TEST(Sandbox, CloseHandlerOfAStoppedCoroutineDoesNotRun) {
    auto sandbox = started(R"(
        local spin = setmetatable({}, {__close = function() while true do end end})
        function wrapped()
            local co = coroutine.wrap(function()
                local guard <close> = spin
                while true do end
            end)
            pcall(co)
            return "escaped"
        end
        function closed()
            local co = coroutine.create(function()
                local guard <close> = spin
                while true do end
            end)
            local closer <close> = setmetatable({}, {__close = function() coroutine.close(co) end})
            coroutine.resume(co)
        end
    )");
    EXPECT_EQ(failure_kind(*sandbox, "wrapped"), FailureKind::budget_exceeded);
    sandbox->begin_run();
    EXPECT_EQ(failure_kind(*sandbox, "closed"), FailureKind::budget_exceeded);
}

TEST(Sandbox, GcMetamethodsAreRefused) {
    auto sandbox = started(R"(
        function finalizer() setmetatable({}, {__gc = function() while true do end end}) end
    )");
    const LuaError error = failure_of([&] { sandbox->call("finalizer", {}); });
    EXPECT_EQ(error.kind(), FailureKind::script_error);
    EXPECT_NE(std::string(error.what()).find("__gc"), std::string::npos) << error.what();
}

TEST(Sandbox, MemoryBombsAreStoppedAndTheSandboxRecovers) {
    auto sandbox = started(R"(
        function grow_table() local t = {} for i = 1, 1e9 do t[i] = i end end
        function grow_string() local s = "x" while true do s = s .. s end end
        function swallow() pcall(grow_table) return "escaped" end
        function swallow_wrapped() pcall(coroutine.wrap(grow_table)) return "escaped" end
        function replace_error()
            pcall(function()
                local replace <close> = setmetatable({}, {__close = function() error("other") end})
                grow_table()
            end)
            return "escaped"
        end
        function answer() return 42 end
    )");
    EXPECT_EQ(failure_kind(*sandbox, "grow_table"), FailureKind::memory_exceeded);
    EXPECT_EQ(failure_kind(*sandbox, "answer"), FailureKind::memory_exceeded);
    sandbox->begin_run();
    EXPECT_EQ(sandbox->call("answer", {}), json::value(42));
    EXPECT_EQ(failure_kind(*sandbox, "grow_string"), FailureKind::memory_exceeded);
    sandbox->begin_run();
    EXPECT_EQ(failure_kind(*sandbox, "swallow"), FailureKind::memory_exceeded);
    sandbox->begin_run();
    EXPECT_EQ(failure_kind(*sandbox, "swallow_wrapped"), FailureKind::memory_exceeded);
    sandbox->begin_run();
    EXPECT_EQ(failure_kind(*sandbox, "replace_error"), FailureKind::memory_exceeded);
    sandbox->begin_run();
    EXPECT_EQ(sandbox->call("answer", {}), json::value(42));
}

TEST(Sandbox, HugeStringRepIsRefused) {
    auto sandbox = started(R"(
        function rep() return #string.rep("x", 1e9) end
        function method() return #("x"):rep(1e9) end
        function small() return string.rep("ab", 3, ",") end
    )");
    EXPECT_EQ(failure_kind(*sandbox, "rep"), FailureKind::memory_exceeded);
    sandbox->begin_run();
    EXPECT_EQ(failure_kind(*sandbox, "method"), FailureKind::memory_exceeded);
    sandbox->begin_run();
    EXPECT_EQ(sandbox->call("small", {}), json::value("ab,ab,ab"));
}

// The matcher charges its steps instead of refusing long subjects (formerly capped at
// max_string_bytes).
TEST(Sandbox, PatternMatchingOnLongSubjectsIsChargedNotRefused) {
    Limits limits = small_limits();
    limits.max_string_bytes = 1000;
    auto sandbox = started(R"(
        function find(n) return string.find(string.rep("a", n) .. "b", "b") end
    )",
                           limits);
    EXPECT_EQ(sandbox->call("find", {100'000}), json::value(100'001));
    EXPECT_GT(sandbox->instructions_used(), 100'000u);
}

// Each of these is one C library call (or a loop of cheap-looking ones) that stock Lua runs for
// seconds to minutes without executing a VM instruction the hook could count.
struct HostileCall {
    const char* name;
    const char* body;
    FailureKind expected;
};

const HostileCall kHostileCalls[] = {
    {"rep of an empty string", "return #string.rep('', 1e9)", FailureKind::budget_exceeded},
    {"rep of an empty string with an empty separator", "return #string.rep('', 1e9, '')",
     FailureKind::budget_exceeded},
    {"rep past the memory cap", "return #string.rep('ab', 1e9, ',')", FailureKind::memory_exceeded},
    {"table.move of a huge range", "return #table.move({}, 1, 1e8, 2)",
     FailureKind::budget_exceeded},
    {"table.move into another table", "return #table.move({}, -1e12, 1e12, 1, {})",
     FailureKind::budget_exceeded},
    {"backtracking find", "return (('a'):rep(60000)):find(('a*'):rep(20) .. 'b')",
     FailureKind::budget_exceeded},
    {"backtracking match", "return (('a'):rep(60000)):match(('a*'):rep(20) .. 'b')",
     FailureKind::budget_exceeded},
    {"backtracking gmatch", "for m in (('a'):rep(60000)):gmatch(('a*'):rep(20) .. 'b') do end",
     FailureKind::budget_exceeded},
    {"backtracking gsub", "return (('a'):rep(60000)):gsub(('a*'):rep(20) .. 'b', '')",
     FailureKind::budget_exceeded},
    {"lazy expansion", "return (('a'):rep(60000)):find(('a-'):rep(20) .. 'b')",
     FailureKind::budget_exceeded},
    {"long bracket class", "return (('b'):rep(60000)):find('[' .. ('a'):rep(60000) .. ']')",
     FailureKind::budget_exceeded},
    {"balanced match over and over", "return (('('):rep(60000)):gsub('%b()', '')",
     FailureKind::budget_exceeded},
    {"plain find of a near miss",
     "return (('a'):rep(200000)):find(('a'):rep(100000) .. 'b', 1, true)",
     FailureKind::budget_exceeded},
    {"table.concat of a huge range",
     "return table.concat(setmetatable({}, {__index = function() return '' end}), '', 1, 1e9)",
     FailureKind::budget_exceeded},
    {"table.unpack of a huge range", "return select('#', table.unpack({}, 1, 1e8))",
     FailureKind::budget_exceeded},
    {"table.insert under a huge length",
     "table.insert(setmetatable({}, {__len = function() return 1e9 end}), 1, 'x')",
     FailureKind::budget_exceeded},
    {"table.remove under a huge length",
     "return table.remove(setmetatable({}, {__len = function() return 1e9 end}), 1)",
     FailureKind::budget_exceeded},
    {"table.sort under a huge length",
     "table.sort(setmetatable({}, {__len = function() return 1e8 end, __index = function() return "
     "1 end}))",
     FailureKind::budget_exceeded},
    {"format of a large string, over and over",
     "local s = ('x'):rep(1e6) for i = 1, 1e6 do string.format('%s', s) end",
     FailureKind::budget_exceeded},
    {"upper of a large string, over and over",
     "local s = ('x'):rep(1e6) for i = 1, 1e6 do s:upper() end", FailureKind::budget_exceeded},
    {"sub of a large string, over and over",
     "local s = ('x'):rep(1e6) for i = 1, 1e6 do s:sub(2) end", FailureKind::budget_exceeded},
    {"utf8.len of a large string, over and over",
     "local s = ('x'):rep(1e6) for i = 1, 1e6 do utf8.len(s) end", FailureKind::budget_exceeded},
    {"utf8.codes over continuation bytes, over and over",
     "local s = ('\\x80'):rep(1e6) local next_code = utf8.codes(s, true) for i = 1, 1e6 do "
     "next_code(s, 0) end",
     FailureKind::budget_exceeded},
    {"tonumber of a long numeral, over and over",
     "local s = ('1'):rep(1e6) for i = 1, 1e6 do tonumber(s) end", FailureKind::budget_exceeded},
    {"arithmetic on a long numeral string, over and over",
     "local s = ('1'):rep(1e6) for i = 1, 1e6 do local n = s + 0 end",
     FailureKind::budget_exceeded},
    {"string.pack padding past the memory cap", "return #string.pack('c2000000000', '')",
     FailureKind::memory_exceeded},
};

TEST(SandboxLibraryBounds, EveryHostileCallEndsWithABreach) {
    for (const HostileCall& hostile : kHostileCalls) {
        SCOPED_TRACE(hostile.name);
        auto sandbox = started(std::string("function attack() ") + hostile.body + " end");
        const LuaError error = failure_of([&] { sandbox->call("attack", {}); });
        EXPECT_EQ(error.kind(), hostile.expected) << error.what();
    }
}

TEST(SandboxLibraryBounds, PcallCannotSwallowABreachInsideALibraryCall) {
    auto sandbox = started(R"(
        function attack()
            local ok = pcall(string.find, ('a'):rep(60000), ('a*'):rep(20) .. 'b')
            local moved = pcall(table.move, {}, 1, 1e8, 2)
            return "swallowed"
        end
        function answer() return 42 end
    )");
    EXPECT_EQ(failure_kind(*sandbox, "attack"), FailureKind::budget_exceeded);
    EXPECT_EQ(failure_kind(*sandbox, "answer"), FailureKind::budget_exceeded);
}

TEST(SandboxLibraryBounds, TheWallClockIsCheckedInsideThePatternMatcher) {
    Limits limits = small_limits();
    limits.instruction_budget = UINT64_MAX;
    limits.wall_clock = std::chrono::milliseconds(50);
    auto sandbox = started(
        "function attack() return (('a'):rep(60000)):find(('a*'):rep(20) .. 'b') end", limits);
    const LuaError error = failure_of([&] { sandbox->call("attack", {}); });
    EXPECT_EQ(error.kind(), FailureKind::budget_exceeded);
    EXPECT_NE(std::string(error.what()).find("wall-clock"), std::string::npos) << error.what();
}

// The instructions a run of `body` spends with a generous budget: a budget of exactly that lets
// the run finish, one less stops it.
void expect_charge_is_the_limit(const std::string& body) {
    SCOPED_TRACE(body);
    const std::string source = "function work() " + body + " end";
    Limits generous = small_limits();
    generous.instruction_budget = 1'000'000'000;
    auto measured = started(source, generous);
    json::value result;
    try {
        result = measured->call("work", {});
    } catch (const LuaError& error) {
        FAIL() << error.what();
    }
    const uint64_t used = measured->instructions_used();

    Limits at_limit = small_limits();
    at_limit.instruction_budget = used;
    EXPECT_EQ(started(source, at_limit)->call("work", {}), result);

    Limits past_limit = small_limits();
    past_limit.instruction_budget = used - 1;
    auto past = started(source, past_limit);
    EXPECT_EQ(failure_kind(*past, "work"), FailureKind::budget_exceeded);
}

TEST(SandboxLibraryBounds, LibraryWorkIsChargedToTheBudgetAtAndPastTheLimit) {
    expect_charge_is_the_limit("return (('a'):rep(100)):find(('a*'):rep(2) .. 'b')");
    expect_charge_is_the_limit("return #string.rep('', 1500000)");
    expect_charge_is_the_limit("return #table.move({}, 1, 1500000, 2)");
    expect_charge_is_the_limit("return select('#', table.unpack({}, 1, 20000))");
    expect_charge_is_the_limit("return (('ab'):rep(100000)):gsub('b', 'cc')");
}

TEST(SandboxLibraryBounds, ChargesGrowWithTheWork) {
    Limits generous = small_limits();
    generous.instruction_budget = 1'000'000'000;
    auto charged = [&](const std::string& body) {
        auto sandbox = started("function work() " + body + " end", generous);
        sandbox->call("work", {});
        return sandbox->instructions_used();
    };
    EXPECT_GE(charged("string.rep('', 1000000)"), 1'000'000u);
    EXPECT_GE(charged("table.move({}, 1, 1000000, 2)"), 1'000'000u);
    EXPECT_GT(charged("(('a'):rep(2000)):find('a*b')"),
              10 * charged("(('a'):rep(200)):find('a*b')"));
    // An ordinary call stays cheap.
    EXPECT_LT(charged("return string.format('%d of %d', 2, 3) .. ('x'):rep(3)"), 100u);
}

// Every result of a call, with its type, as one string: what the stock and the bounded
// functions must agree on.
constexpr const char* kShowResults = R"(
    local function show(...)
        local parts = {}
        for i = 1, select('#', ...) do
            local value = select(i, ...)
            if type(value) == 'table' then
                local items = {}
                for j = 1, #value do items[j] = tostring(value[j]) end
                value = '{' .. table.concat(items, ',') .. '}'
            end
            parts[i] = type(value) .. ':' .. tostring(value)
        end
        return table.concat(parts, '|')
    end
    local function collect(...)
        local all = {}
        for a, b in ... do all[#all + 1] = tostring(a) .. (b and ('/' .. tostring(b)) or '') end
        return all
    end
)";

// Ordinary uses of the guarded and re-implemented functions, errors included.
const char* const kOrdinaryCalls[] = {
    "string.find('hello world', 'o w')",
    "string.find('hello world', 'o', 6)",
    "string.find('hello world', 'l+')",
    "string.find('hello', 'l', -2)",
    "string.find('hello', '', 10)",
    "string.find('a.b', '.', 1, true)",
    "string.find('key = value', '(%w+)%s*=%s*(%w+)')",
    "string.find('  x', '^%s*()')",
    "string.find('hello', '^h')",
    "string.find('hello', '^e')",
    "string.find('hello', 'o$')",
    "string.find('a$b', '$b')",
    "string.match('2024-01-15', '(%d+)-(%d+)-(%d+)')",
    "string.match('f(a(b)c)d', '%b()')",
    "string.match('THE (quick) fox', '%f[%a]%a+')",
    "string.match('hello', '()ll()')",
    "string.match('[x]', '%[(.-)%]')",
    "string.match('aaa', 'a-b')",
    "string.match('aaab', 'a-b')",
    "string.match('abc', '[^%s]+')",
    "string.match('a-z', '[a%-z]+')",
    "string.match('xyz', '[x-y]+')",
    "string.match('hello hello', '(h%a+) %1')",
    "string.match('  trim  ', '^%s*(.-)%s*$')",
    "string.match('abc', '.', 5)",
    "string.match('abc', 'b?c')",
    "string.match('\\0a\\0', '%z')",
    "collect(string.gmatch('one two  three', '%a+'))",
    "collect(string.gmatch('k1=v1, k2=v2', '(%w+)=(%w+)'))",
    "collect(string.gmatch('abc', ''))",
    "collect(string.gmatch('hello world', 'o', 6))",
    "string.gsub('hello world', 'o', '0')",
    "string.gsub('hello world', 'o', '0', 1)",
    "string.gsub('hello world', '(%w+)', '<%1>')",
    "string.gsub('hello', '', '-')",
    "string.gsub('abc', '%w', '%0%0')",
    "string.gsub('abc', 'b', '%%')",
    "string.gsub('$name is $age', '%$(%w+)', {name = 'Ann', age = 7})",
    "string.gsub('$name is $missing', '%$(%w+)', {name = 'Ann'})",
    "string.gsub('hello world', '%w+', function(w) return w:upper() end)",
    "string.gsub('hello world', '%w+', function(w) if w == 'world' then return false end return "
    "'<' .. w .. '>' end)",
    "string.gsub('abc', '()', '%1')",
    "string.gsub('  x  ', '^%s+', '')",
    "pcall(string.find, 'a', '[a')",
    "pcall(string.find, 'a', '%')",
    "pcall(string.match, 'a', '(()')",
    "pcall(string.gsub, 'a', 'a', '%2')",
    "pcall(string.gsub, 'a', '(a)', {a = {}})",
    "pcall(string.match, 'a', '%f')",
    "pcall(string.rep)",
    "string.rep('ab', 3, ',')",
    "string.rep('ab', 0)",
    "string.rep('ab', -1, ',')",
    "string.rep('', 5, '')",
    "string.rep('', 3, ',')",
    "string.rep('x', 1)",
    "string.format('%5.2f|%-4d|%q|%s|%x', 3.14159, 42, 'a\\nb', {}, 255):gsub('0x%x+', 'addr')",
    "string.upper('MiXeD'), string.lower('MiXeD'), string.reverse('abc')",
    "string.sub('hello', 2, -2), string.byte('abc', 1, -1), string.char(72, 105)",
    "string.unpack('<i4 z', string.pack('<i4 z', 7, 'zz'))",
    "table.concat({1, 2, 3}, ', ')",
    "table.concat({1, 2, 3}, ', ', 2, 3)",
    "table.concat({}, ',')",
    "pcall(table.concat, {1, {}, 3})",
    "table.move({1, 2, 3}, 1, 3, 2)",
    "table.move({1, 2, 3}, 2, 3, 1)",
    "table.move({1, 2, 3}, 1, 3, 1, {9, 9, 9, 9})",
    "table.move({1, 2, 3}, 1, 0, 2)",
    "table.unpack({1, 2, 3})",
    "table.unpack({1, 2, 3}, 2)",
    "table.unpack({1, 2, 3}, 2, 5)",
    "(function() local t = {1, 2, 3} table.insert(t, 2, 'x') table.insert(t, 'y') return t end)()",
    "(function() local t = {1, 2, 3} local r = table.remove(t, 1) return r, t end)()",
    "(function() local t = {1, 2, 3} local r = table.remove(t) return r, t end)()",
    "pcall(table.insert, {1, 2}, 5, 'x')",
    "(function() local t = {5, 2, 8, 1} table.sort(t) return t end)()",
    "(function() local t = {5, 2, 8, 1} table.sort(t, function(a, b) return a > b end) return t "
    "end)()",
    "table.pack(1, nil, 3).n",
    "utf8.char(72, 228, 8364), utf8.codepoint('häé', 1, -1)",
    "utf8.len('häé'), utf8.len('\\xff'), utf8.offset('häé', 3), utf8.offset('häé', -1)",
    "collect(utf8.codes('häé'))",
    "pcall(function() for p, c in utf8.codes('a\\xffb') do end end)",
    "tonumber('0x10'), tonumber('10', 2), tonumber('z', 36), tonumber('nope')",
    "'10' + 1, '3' * '4', -'2', '7' // 2, '2' ^ 10, '7' % '4', '1' - 1, '9' / 3",
    "pcall(function() return 'x' + 1 end)",
};

std::string stock_results(const std::string& expression) {
    lua_State* L = luaL_newstate();
    luaL_openlibs(L);
    const std::string chunk = std::string(kShowResults) + " return show(" + expression + ")";
    std::string shown;
    // Named as the sandbox names its chunk, so that error positions read the same.
    if (luaL_loadbuffer(L, chunk.data(), chunk.size(), "=scorecard") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK) {
        shown = std::string("error: ") + lua_tostring(L, -1);
    } else {
        std::size_t length = 0;
        const char* text = lua_tolstring(L, -1, &length);
        shown.assign(text, length);
    }
    lua_close(L);
    return shown;
}

TEST(SandboxLibraryBounds, OrdinaryCallsGiveTheStockResults) {
    for (const char* expression : kOrdinaryCalls) {
        SCOPED_TRACE(expression);
        auto sandbox = started(std::string(kShowResults) + " function shown() return show(" +
                               expression + ") end");
        const std::string expected = stock_results(expression);
        ASSERT_EQ(expected.rfind("error: ", 0), std::string::npos) << expected;
        EXPECT_EQ(sandbox->call("shown", {}), json::value(expected));
    }
}

TEST(Sandbox, UnsafeFunctionsAreAbsent) {
    auto sandbox = started(R"(
        function absent()
            return {
                io = io == nil, os = os == nil, package = package == nil, debug = debug == nil,
                require = require == nil, dofile = dofile == nil, loadfile = loadfile == nil,
                load = load == nil, loadstring = loadstring == nil,
                collectgarbage = collectgarbage == nil, print = print == nil,
                dump = string.dump == nil, random = math.random == nil,
                randomseed = math.randomseed == nil,
            }
        end
    )");
    const json::value absent = sandbox->call("absent", {});
    ASSERT_TRUE(absent.is_object()) << absent;
    EXPECT_EQ(absent.as_object().size(), 14u);
    for (const auto& [name, is_nil] : absent.as_object()) {
        EXPECT_EQ(is_nil, json::value(true)) << name;
    }
}

TEST(Sandbox, BinaryChunksAreRefused) {
    const std::string bytecode("\x1bLua\x54\x00\x19\x93\r\n\x1a\n", 12);
    const LuaError error = failure_of([&] { Sandbox sandbox(bytecode, "binary"); });
    EXPECT_EQ(error.kind(), FailureKind::compile_error);
}

TEST(Sandbox, SyntaxErrorsAreCompileErrors) {
    EXPECT_EQ(failure_of([] { Sandbox sandbox("function broken(", "broken"); }).kind(),
              FailureKind::compile_error);
}

TEST(Sandbox, GlobalsDoNotLeakBetweenRuns) {
    auto sandbox = started(R"(
        runs = (runs or 0) + 1
        function runs_seen() return runs end
        function leak() leaked = true; string_alias = string end
        function leaked_value() return leaked == nil end
    )");
    sandbox->call("leak", {});
    EXPECT_EQ(sandbox->call("leaked_value", {}), json::value(false));
    sandbox->begin_run();
    EXPECT_EQ(sandbox->call("runs_seen", {}), json::value(1));
    EXPECT_EQ(sandbox->call("leaked_value", {}), json::value(true));
}

TEST(Sandbox, LibraryTablesAreReadOnly) {
    auto sandbox = started(R"(
        function add_field() string.x = 1 end
        function remove_floor() math.floor = nil end
        function raw_write() rawset(table, "insert", nil) end
        function unprotect() setmetatable(math, nil) end
        function floor() return math.floor(2.5) + #table.concat({"a", "b"}) end
    )");
    for (const char* attempt : {"add_field", "remove_floor", "raw_write", "unprotect"}) {
        EXPECT_EQ(failure_kind(*sandbox, attempt), FailureKind::script_error) << attempt;
    }
    sandbox->begin_run();
    EXPECT_EQ(sandbox->call("floor", {}), json::value(4));
}

TEST(Sandbox, StringMetatableIsOutOfReach) {
    auto sandbox = started(R"(
        function metatable() return getmetatable("") end
        function replace() setmetatable(getmetatable(""), {}) end
        function method() return ("abc"):upper() end
    )");
    EXPECT_EQ(sandbox->call("metatable", {}), json::value(false));
    EXPECT_EQ(failure_kind(*sandbox, "replace"), FailureKind::script_error);
    EXPECT_EQ(sandbox->call("method", {}), json::value("ABC"));
}

TEST(Sandbox, StockBehaviourOfGuardedFunctionsIsKept) {
    auto sandbox = started(R"(
        function protected()
            local ok, message = pcall(error, "boom", 0)
            local handled_ok, handled =
                xpcall(error, function(m) return "handled " .. m end, "x", 0)
            local generator = coroutine.wrap(function()
                for i = 1, 3 do
                    local yielded_ok = pcall(coroutine.yield, i)
                    assert(yielded_ok)
                end
            end)
            local co = coroutine.create(function(a) return a * 2 end)
            local resumed_ok, doubled = coroutine.resume(co, 21)
            return { ok, message, handled_ok, handled, generator() + generator() + generator(),
                     resumed_ok, doubled, setmetatable({}, {__index = {v = 7}}).v }
        end
    )");
    EXPECT_EQ(sandbox->call("protected", {}),
              json::parse(R"([false, "boom", false, "handled x", 6, true, 42, 7])"));
}

TEST(Sandbox, JsonRoundTripKeepsShapesAndNumberKinds) {
    auto sandbox = started("function echo(...) return {...} end");
    const json::value input = json::parse(R"({
        "name": "quote", "count": 3, "ratio": 0.25, "big": 9007199254740993, "flag": true,
        "off": false, "nested": {"list": [1, 2.5, "three", [4, {"five": 5}]], "empty": {}}
    })");
    const json::value result = sandbox->call("echo", {input, 7, "text"});
    EXPECT_EQ(result, (json::array{input, 7, "text"}));
    const json::object& echoed = result.as_array()[0].as_object();
    EXPECT_TRUE(echoed.at("count").is_int64());
    EXPECT_TRUE(echoed.at("ratio").is_double());
    EXPECT_EQ(echoed.at("big").as_int64(), 9007199254740993);
    EXPECT_TRUE(echoed.at("nested").at("empty").is_object());
}

TEST(Sandbox, JsonNullIsNil) {
    auto sandbox = started(R"(
        function shape(object, array)
            return { has_key = object.gone ~= nil, second = array[2] == nil, third = array[3] }
        end
    )");
    EXPECT_EQ(
        sandbox->call("shape", {json::parse(R"({"gone": null})"), json::parse("[1, null, 3]")}),
        json::parse(R"({"has_key": false, "second": true, "third": 3})"));
}

TEST(Sandbox, ValuesWithoutAJsonFormAreRefused) {
    auto sandbox = started(R"(
        function a_function() return print or tostring end
        function not_a_number() return 0/0 end
        function infinite() return math.huge end
        function cycle() local t = {} t.self = t return t end
        function mixed_keys() return {1, 2, x = 3} end
        function sparse() return {[1] = 1, [3] = 3} end
        function float_key() return {[1.5] = 1} end
        function coroutine_value() return coroutine.create(function() end) end
    )");
    for (const char* function : {"a_function", "not_a_number", "infinite", "cycle", "mixed_keys",
                                 "sparse", "float_key", "coroutine_value"}) {
        EXPECT_EQ(failure_kind(*sandbox, function), FailureKind::bad_value) << function;
    }
}

json::value nested_arrays(int levels) {
    json::value value = json::array{};
    for (int level = 1; level < levels; ++level) value = json::array{value};
    return value;
}

// What may enter Lua comes back out: the depth limit counts the same way in both directions,
// and a value past it is refused before the script runs.
TEST(Sandbox, NestingAtTheLimitRoundTripsAndPastItIsRefusedOnEntry) {
    auto sandbox = started(R"(
        calls = 0
        function echo(v) calls = calls + 1 return v end
        function count() return calls end
    )");
    json::value expected = json::object{};  // the innermost empty array comes back as {}
    for (int level = 1; level < kMaxNestingDepth; ++level) expected = json::array{expected};
    EXPECT_EQ(sandbox->call("echo", {nested_arrays(kMaxNestingDepth)}), expected);
    EXPECT_EQ(failure_kind(*sandbox, "echo", {nested_arrays(kMaxNestingDepth + 1)}),
              FailureKind::bad_value);
    EXPECT_EQ(sandbox->call("count", {}), json::value(1));
}

// Boost.JSON parses an out-of-range literal such as 1e999 to infinity; it cannot come back.
TEST(Sandbox, NonFiniteNumbersAreRefusedBeforeLua) {
    auto sandbox = started("calls = 0 function count(v) calls = calls + 1 return calls end");
    EXPECT_EQ(failure_kind(*sandbox, "count", {json::parse("[1e999]")}), FailureKind::bad_value);
    EXPECT_EQ(failure_kind(*sandbox, "count",
                           {json::object{{"low", -std::numeric_limits<double>::infinity()}}}),
              FailureKind::bad_value);
    EXPECT_EQ(sandbox->call("count", {1e308}), json::value(1));
}

TEST(Sandbox, OversizeInputStringsAreRefusedBeforeLua) {
    Limits limits = small_limits();
    limits.max_string_bytes = 16;
    auto sandbox =
        started("calls = 0 function count(v) calls = calls + 1 return calls end", limits);
    const std::string oversize(17, 'x');
    EXPECT_EQ(failure_kind(*sandbox, "count", {json::string(oversize)}), FailureKind::bad_value);
    EXPECT_EQ(failure_kind(*sandbox, "count", {json::object{{"k", oversize}}}),
              FailureKind::bad_value);
    EXPECT_EQ(failure_kind(*sandbox, "count", {json::object{{oversize, 1}}}),
              FailureKind::bad_value);
    EXPECT_EQ(sandbox->call("count", {json::string(oversize.substr(1))}), json::value(1));
}

TEST(Sandbox, StringsThatAreNotUtf8AreRefusedOnTheWayOut) {
    auto sandbox = started(R"(
        function value() return "ok \xff" end
        function key() return {["\xc3"] = 1} end
        function nested() return {reasons = {"fine", string.char(0xe2, 0x82)}} end
        function cut() return ("\u{20ac}"):sub(1, 2) end
        function surrogate() return "\xed\xa0\x80" end
        function fine() return {["h\u{e4}user"] = "\u{20ac} 5", plain = "a\0b"} end
    )");
    for (const char* function : {"value", "key", "nested", "cut", "surrogate"}) {
        SCOPED_TRACE(function);
        const LuaError error = failure_of([&] { sandbox->call(function, {}); });
        EXPECT_EQ(error.kind(), FailureKind::bad_value);
        EXPECT_NE(std::string(error.what()).find("is not valid UTF-8"), std::string::npos)
            << error.what();
    }
    EXPECT_EQ(sandbox->call("fine", {}),
              json::parse(R"({"h\u00e4user": "\u20ac 5", "plain": "a\u0000b"})"));
}

TEST(Sandbox, ErrorMessagesAreMadeValidUtf8) {
    auto sandbox = started(R"(
        function raise() error("bad \xff\xfe byte", 0) end
    )");
    const LuaError error = failure_of([&] { sandbox->call("raise", {}); });
    EXPECT_EQ(error.kind(), FailureKind::script_error);
    EXPECT_EQ(std::string(error.what()), "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");

    // The compiler quotes the offending token, bytes and all.
    const LuaError compile = failure_of([] { Sandbox("x = 1 \"\xff\"", "scorecard"); });
    EXPECT_EQ(compile.kind(), FailureKind::compile_error);
    EXPECT_EQ(std::string(compile.what()),
              "scorecard:1: unexpected symbol near '\"\xEF\xBF\xBD\"'");
}

TEST(Sandbox, MissingFunctionsAreReported) {
    auto sandbox = started("not_a_function = 1 function present() end");
    EXPECT_TRUE(sandbox->has_function("present"));
    EXPECT_FALSE(sandbox->has_function("absent"));
    EXPECT_FALSE(sandbox->has_function("not_a_function"));
    EXPECT_EQ(failure_kind(*sandbox, "absent"), FailureKind::no_such_function);
    EXPECT_EQ(failure_kind(*sandbox, "not_a_function"), FailureKind::no_such_function);
    EXPECT_EQ(sandbox->call("present", {}), json::value(nullptr));
}

TEST(Sandbox, ScriptErrorsCarryChunkNameAndLine) {
    auto sandbox = started("function fails()\n  local x = 1\n  error('bad input')\nend\n");
    const LuaError error = failure_of([&] { sandbox->call("fails", {}); });
    EXPECT_EQ(error.kind(), FailureKind::script_error);
    EXPECT_NE(std::string(error.what()).find("scorecard:3:"), std::string::npos) << error.what();
}

TEST(Sandbox, FailingChunkFailsBeginRun) {
    Sandbox sandbox("error('at load')", "scorecard", small_limits());
    EXPECT_EQ(failure_of([&] { sandbox.begin_run(); }).kind(), FailureKind::script_error);
}

TEST(Sandbox, InstructionCounterGrowsAcrossCalls) {
    auto sandbox =
        started("function work(n) local s = 0 for i = 1, n do s = s + i end return s end");
    EXPECT_EQ(sandbox->call("work", {100000}), json::value(5000050000));
    const uint64_t after_first = sandbox->instructions_used();
    EXPECT_GT(after_first, 0u);
    sandbox->call("work", {100000});
    EXPECT_GT(sandbox->instructions_used(), after_first);
    sandbox->begin_run();
    EXPECT_LT(sandbox->instructions_used(), after_first);
}

// Sixty string keys, visited by `visit` through `iterate` (pairs or next) and joined by commas.
constexpr std::string_view kKeyOrderScript = R"(
    local function table_of_keys()
        local t = {}
        for i = 1, 60 do t["key" .. i] = i end
        return t
    end
    function visit_pairs()
        local seen = {}
        for k in pairs(table_of_keys()) do seen[#seen + 1] = k end
        return table.concat(seen, ",")
    end
    function visit_next()
        local seen = {}
        for k in next, table_of_keys() do seen[#seen + 1] = k end
        return table.concat(seen, ",")
    end
)";

// The orders `function_name` gives in `states` sandboxes alive at once (so each has its own
// address, hence its own string hash seed).
std::set<std::string> orders_across_states(std::string_view function_name, int states) {
    std::vector<std::unique_ptr<Sandbox>> sandboxes;
    std::set<std::string> orders;
    for (int i = 0; i < states; ++i) {
        sandboxes.push_back(started(kKeyOrderScript));
        orders.insert(std::string(sandboxes.back()->call(function_name, {}).as_string()));
    }
    return orders;
}

TEST(SandboxPairs, StockTraversalOrderDiffersBetweenStates) {
    // `next` keeps Lua's own order: this is what `pairs` used to give, and why it changed.
    EXPECT_GT(orders_across_states("visit_next", 40).size(), 1u);
}

TEST(SandboxPairs, OrderIsTheSameInEveryStateAndSortsStringKeysByBytes) {
    const std::set<std::string> orders = orders_across_states("visit_pairs", 40);
    ASSERT_EQ(orders.size(), 1u);
    std::vector<std::string> keys;
    for (int i = 1; i <= 60; ++i) keys.push_back("key" + std::to_string(i));
    std::sort(keys.begin(), keys.end());
    std::string expected;
    for (const std::string& key : keys) expected += (expected.empty() ? "" : ",") + key;
    EXPECT_EQ(*orders.begin(), expected);
}

TEST(SandboxPairs, NumbersThenStringsThenBooleans) {
    auto sandbox = started(R"(
        function visit()
            local t = {b = 1, a = 1, [true] = 1, [false] = 1, [3] = 1, [1] = 1, [2] = 1,
                       [10] = 1, [0] = 1, [-2] = 1, [0.5] = 1, [-1.5] = 1, [""] = 1}
            local seen = {}
            for k, v in pairs(t) do
                assert(v == 1)
                seen[#seen + 1] = tostring(k)
            end
            return table.concat(seen, " ")
        end
    )");
    EXPECT_EQ(sandbox->call("visit", {}), json::value("1 2 3 10 -2 -1.5 0 0.5  a b false true"));
}

TEST(SandboxPairs, PairsMetamethodAndRemovalDuringTraversalKeepStockSemantics) {
    auto sandbox = started(R"(
        function custom()
            local t = setmetatable({}, {__pairs = function(self)
                return function(_, k) if k == nil then return "only", 1 end end, self, nil
            end})
            local seen = {}
            for k, v in pairs(t) do seen[#seen + 1] = k .. "=" .. v end
            return table.concat(seen, ",")
        end
        function remove_while_visiting()
            local t = {a = 1, b = 2, c = 3, d = 4}
            local seen = {}
            for k in pairs(t) do
                seen[#seen + 1] = k
                t.c = nil
                t[k] = nil
            end
            return table.concat(seen, ",") .. ";" .. tostring(next(t))
        end
        function not_a_table() for _ in pairs(42) do end end
    )");
    EXPECT_EQ(sandbox->call("custom", {}), json::value("only=1"));
    EXPECT_EQ(sandbox->call("remove_while_visiting", {}), json::value("a,b,d;nil"));
    const LuaError error = failure_of([&] { sandbox->call("not_a_table", {}); });
    EXPECT_EQ(error.kind(), FailureKind::script_error);
    EXPECT_NE(std::string(error.what()).find("table expected"), std::string::npos) << error.what();
}

constexpr std::string_view kLargeTableScript = R"(
    local T = {}
    function build(n) for i = 1, n do T[i + 0.5] = true end end
    function snapshot() local iterate = pairs(T) return 1 end
)";

// The sort in C is charged as (1 + ceil(log2 n)) instructions per key.
TEST(SandboxPairs, SortingIsChargedToTheInstructionBudgetAtAndPastTheLimit) {
    constexpr int kKeys = 4096;
    constexpr uint64_t kCharge = kKeys * (1 + 12);
    Limits generous = small_limits();
    generous.instruction_budget = 100'000'000;
    auto measured = started(kLargeTableScript, generous);
    measured->call("build", {kKeys});
    const uint64_t before = measured->instructions_used();
    measured->call("snapshot", {});
    const uint64_t after = measured->instructions_used();
    EXPECT_GE(after - before, kCharge);
    EXPECT_LT(after - before, kCharge + 2000);

    Limits at_limit = small_limits();
    at_limit.instruction_budget = after;
    auto at = started(kLargeTableScript, at_limit);
    at->call("build", {kKeys});
    EXPECT_EQ(at->call("snapshot", {}), json::value(1));

    Limits past_limit = small_limits();
    past_limit.instruction_budget = after - 1;
    auto past = started(kLargeTableScript, past_limit);
    past->call("build", {kKeys});
    EXPECT_EQ(failure_kind(*past, "snapshot"), FailureKind::budget_exceeded);
}

TEST(SandboxPairs, TheKeySnapshotCountsAgainstTheMemoryCap) {
    constexpr int kKeys = 65536;
    Limits roomy = small_limits();
    roomy.memory_bytes = 16u * 1024u * 1024u;
    auto fits = started(kLargeTableScript, roomy);
    fits->call("build", {kKeys});
    EXPECT_EQ(fits->call("snapshot", {}), json::value(1));

    // 4 MiB hold the table (2 MiB of nodes) but not its snapshot as well (64 bytes per key).
    auto too_big = started(kLargeTableScript);
    too_big->call("build", {kKeys});
    EXPECT_EQ(failure_kind(*too_big, "snapshot"), FailureKind::memory_exceeded);
}

TEST(Sandbox, ObjectsReturnedFromLuaHaveTheirMembersInKeyOrder) {
    auto sandbox = started(R"(
        function object()
            local t = {}
            for i = 1, 40 do t["m" .. i] = i end
            t.a = {z = 1, y = 2}
            return t
        end
    )");
    const json::value result = sandbox->call("object", {});
    std::string previous;
    for (const auto& member : result.as_object()) {
        EXPECT_LT(previous, std::string(member.key())) << json::serialize(result);
        previous = member.key();
    }
    EXPECT_EQ(json::serialize(result.at("a")), R"({"y":2,"z":1})");
}

TEST(ScriptCache, SharesSandboxesBySource) {
    ScriptCache cache(small_limits(), 2);
    Sandbox& first = cache.get("one", "function f() return 1 end", "a");
    EXPECT_EQ(&cache.get("one", "function f() return 1 end", "a"), &first);
    EXPECT_NE(&cache.get("two", "function f() return 2 end", "b"), &first);
    EXPECT_EQ(cache.size(), 2u);
    cache.get("three", "function f() return 3 end", "c");
    EXPECT_EQ(cache.size(), 2u);
}

TEST(ScriptCache, CompileErrorsPropagate) {
    ScriptCache cache(small_limits(), 2);
    EXPECT_EQ(failure_of([&] { cache.get("broken", "function (", "broken"); }).kind(),
              FailureKind::compile_error);
    EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace engined::lua

namespace engined::lua {
namespace {

constexpr std::string_view kLogging = R"(
function note(...) log(...) return true end
function note_times(n, text) for i = 1, n do log(text) end return n end
)";

TEST(SandboxLog, LogKeepsNothingUnlessTheRunCapturesIt) {
    auto sandbox = started(kLogging);
    EXPECT_EQ(sandbox->call("note", {"score", 42}), json::value(true));
    EXPECT_TRUE(sandbox->run_log().lines.empty());
    EXPECT_EQ(sandbox->run_log().dropped_lines, 0u);

    sandbox->begin_run(RunOptions{.capture_log = true});
    sandbox->call("note",
                  {"score", 42, 0.5, json::object{{"b", "x"}, {"a", 1}}, json::array{1, 2}});
    ASSERT_EQ(sandbox->run_log().lines.size(), 1u);
    EXPECT_EQ(sandbox->run_log().lines[0], R"(score 42 0.5 {a=1, b="x"} {1, 2})");

    // Each run starts with an empty log.
    sandbox->begin_run();
    EXPECT_TRUE(sandbox->run_log().lines.empty());
}

TEST(SandboxLog, LinesAreKeptUpToTheLineLimitAndCountedPastIt) {
    Limits limits = small_limits();
    limits.max_log_lines = 3;
    auto sandbox = started(kLogging, limits);
    sandbox->begin_run(RunOptions{.capture_log = true});
    sandbox->call("note_times", {3, "x"});
    EXPECT_EQ(sandbox->run_log().lines, (std::vector<std::string>{"x", "x", "x"}));
    EXPECT_EQ(sandbox->run_log().dropped_lines, 0u);

    sandbox->begin_run(RunOptions{.capture_log = true});
    sandbox->call("note_times", {5, "x"});
    EXPECT_EQ(sandbox->run_log().lines.size(), 3u);
    EXPECT_EQ(sandbox->run_log().dropped_lines, 2u);
}

TEST(SandboxLog, LinesAreKeptUpToTheByteLimitAndCountedPastIt) {
    Limits limits = small_limits();
    limits.max_log_bytes = 10;
    auto sandbox = started(kLogging, limits);
    sandbox->begin_run(RunOptions{.capture_log = true});
    sandbox->call("note_times", {2, "12345"});
    EXPECT_EQ(sandbox->run_log().lines, (std::vector<std::string>{"12345", "12345"}));
    EXPECT_EQ(sandbox->run_log().dropped_lines, 0u);

    sandbox->begin_run(RunOptions{.capture_log = true});
    sandbox->call("note_times", {1, "12345678901"});
    sandbox->call("note_times", {1, "1234567890"});
    EXPECT_EQ(sandbox->run_log().lines, (std::vector<std::string>{"1234567890"}));
    EXPECT_EQ(sandbox->run_log().dropped_lines, 1u);
}

TEST(SandboxLog, HugeTablesAreShownBounded) {
    Limits limits = small_limits();
    limits.max_log_bytes = 100'000;
    auto sandbox = started(
        "function big() local t = {} for i = 1, 5000 do t['k' .. i] = i end log(t) end", limits);
    sandbox->begin_run(RunOptions{.capture_log = true});
    sandbox->call("big", {});
    ASSERT_EQ(sandbox->run_log().lines.size(), 1u);
    const std::string& line = sandbox->run_log().lines[0];
    EXPECT_EQ(line.rfind("{k1=1, k10=10, k100=100, k1000=1000, k1001=1001", 0), 0u) << line;
    EXPECT_NE(line.find(", …}"), std::string::npos) << line;
    EXPECT_LT(line.size(), 1000u);
}

TEST(SandboxBreachLine, InstructionBudgetNamesTheLineThatRan) {
    auto sandbox = started("local n = 0\nfunction spin()\n  while true do n = n + 1 end\nend\n");
    const LuaError error = failure_of([&] { sandbox->call("spin", {}); });
    EXPECT_EQ(error.kind(), FailureKind::budget_exceeded);
    EXPECT_EQ(error.message(), "scorecard: instruction budget exceeded at scorecard:3");
    // Sticky: later calls report the same breach and line.
    EXPECT_EQ(failure_of([&] { sandbox->call("spin", {}); }).message(), error.message());
}

TEST(SandboxBreachLine, MemoryCapNamesTheLineThatAllocated) {
    auto sandbox =
        started("function grow()\n  local t = {}\n  for i = 1, 1e9 do\n    t[i] = i\n  end\nend\n");
    const LuaError error = failure_of([&] { sandbox->call("grow", {}); });
    EXPECT_EQ(error.kind(), FailureKind::memory_exceeded);
    EXPECT_EQ(error.message(), "scorecard: memory limit exceeded at scorecard:4");
}

TEST(SandboxErrorObject, TablesShowTheirFields) {
    auto sandbox = started(R"(
function plain() error({code = 42}) end
function mixed() error({"first", "second", code = 7, ["two words"] = {nested = true}}) end
function many() local t = {} for i = 1, 500 do t["field" .. i] = string.rep("x", 50) end error(t) end
)");
    EXPECT_EQ(failure_of([&] { sandbox->call("plain", {}); }).message(), "{code=42}");
    EXPECT_EQ(failure_of([&] { sandbox->call("mixed", {}); }).message(),
              R"({"first", "second", code=7, ["two words"]={nested=true}})");
    const std::string many = failure_of([&] { sandbox->call("many", {}); }).message();
    EXPECT_EQ(many.rfind("{field1=\"xxx", 0), 0u) << many;
    EXPECT_LE(many.size(), 1024u + std::string_view("…").size());
    EXPECT_EQ(many.substr(many.size() - 3), "…");
}

TEST(SandboxErrorObject, FieldsAndNestingAreShownUpToTheirLimitsAndMarkedPastThem) {
    auto sandbox = started(R"(
function fields(n) local t = {} for i = 1, n do t[i] = i end error(t) end
function nested() error({a = {b = {c = 1}}}) end
function deeper() error({a = {b = {c = {d = 1}}}}) end
)");
    const std::string at_limit = failure_of([&] { sandbox->call("fields", {32}); }).message();
    EXPECT_EQ(at_limit.find("…"), std::string::npos) << at_limit;
    EXPECT_EQ(at_limit.substr(at_limit.size() - 5), ", 32}") << at_limit;
    const std::string past_limit = failure_of([&] { sandbox->call("fields", {33}); }).message();
    const std::string marked = ", 32, …}";
    EXPECT_EQ(past_limit.substr(past_limit.size() - marked.size()), marked) << past_limit;
    EXPECT_EQ(failure_of([&] { sandbox->call("nested", {}); }).message(), "{a={b={c=1}}}");
    EXPECT_EQ(failure_of([&] { sandbox->call("deeper", {}); }).message(), "{a={b={c={…}}}}");
}

TEST(SandboxCoverage, LinesNoRunReachedAreListedPerFunction) {
    auto sandbox = std::make_unique<Sandbox>(R"(local function clamp(x)
  if x > 1 then
    return 1
  end
  return x
end
function score(x)
  return clamp(x)
end
function unused()
  return 0
end
)",
                                             "scorecard", small_limits());
    sandbox->count_lines();
    sandbox->begin_run();
    sandbox->call("score", {0.5});
    std::map<std::string, FunctionCoverage> by_name;
    for (auto& function : sandbox->line_coverage()) by_name[function.name] = function;
    ASSERT_TRUE(by_name.count("local clamp")) << by_name.size();
    EXPECT_EQ(by_name["local clamp"].first_line, 1);
    EXPECT_EQ(by_name["local clamp"].uncovered, (std::vector<int>{3}));
    EXPECT_EQ(by_name["score"].uncovered, std::vector<int>{});
    // The `end` after a `return` holds only the implicit return no call reaches: not counted.
    EXPECT_EQ(by_name["score"].lines, (std::vector<int>{8}));
    EXPECT_EQ(by_name["unused"].uncovered, (std::vector<int>{11}));
    EXPECT_TRUE(by_name["top level"].uncovered.empty());

    // Counts add up across runs until the sandbox goes away.
    sandbox->begin_run();
    sandbox->call("score", {2});
    for (auto& function : sandbox->line_coverage()) {
        if (function.name == "local clamp") {
            EXPECT_TRUE(function.uncovered.empty());
        }
    }
}

}  // namespace
}  // namespace engined::lua
