// A breach re-raises through everything that could catch it (pcall, xpcall, coroutine.resume,
// wrap and close), and no script code runs where Lua leaves hooks off after the hook raised it.
#include "lua/sandbox.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <lua.hpp>
#include <optional>
#include <string>

#include "common/json_text.hpp"
#include "lua/json_bridge.hpp"
#include "lua/key_order.hpp"
#include "lua/library_bounds.hpp"
#include "lua/value_text.hpp"
#include "lua/work_meter.hpp"

namespace engined::lua {
namespace {

using Clock = std::chrono::steady_clock;

// Any count hook roughly doubles VM cost whatever its interval; this one keeps the budget's
// granularity fine without calling the clock too often.
constexpr int kHookInterval = 1000;

// How much of a table raised as an error object its message shows.
constexpr std::size_t kErrorObjectBytes = 1024;

// Arguments of one call; they all sit on the Lua stack at once.
constexpr std::size_t kMaxArguments = 256;

enum class Breach : int { none, instructions, wall_clock, memory };

// "scorecard.lua:12": the innermost line of script code on `L`'s stack, or "" when none runs.
// Reads only the call frames and allocates nothing in Lua, so it is safe inside the allocator.
std::string script_line(lua_State* L) {
    if (L == nullptr) return {};
    lua_Debug frame;
    for (int level = 0; lua_getstack(L, level, &frame) != 0; ++level) {
        if (lua_getinfo(L, "Sl", &frame) != 0 && frame.currentline > 0) {
            return std::string(frame.short_src) + ":" + std::to_string(frame.currentline);
        }
    }
    return {};
}

struct BreachDescription {
    FailureKind kind;
    const char* message;
};

constexpr std::array<BreachDescription, 3> kBreaches{{
    {FailureKind::budget_exceeded, "instruction budget exceeded"},
    {FailureKind::budget_exceeded, "wall-clock limit exceeded"},
    {FailureKind::memory_exceeded, "memory limit exceeded"},
}};

const BreachDescription& describe(Breach breach) {
    return kBreaches[static_cast<std::size_t>(breach) - 1];
}

using LinesRun = std::vector<std::vector<std::uint8_t>>;

struct AllocationRequest {
    void* block;
    std::size_t old_size;
    std::size_t new_size;
    bool operator==(const AllocationRequest&) const = default;
};

// Everything the C callbacks (allocator, hook, library guards) reach through the allocator's
// user data.
struct Interpreter {
    Interpreter(const Limits& run_limits, std::string_view name)
        : limits(run_limits), chunk_name(name) {}
    ~Interpreter() {
        if (L != nullptr) {
            lua_close(L);
        }
    }
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    // `running` is the thread that was executing, whose innermost script line the breach names.
    void note_breach(Breach kind, lua_State* running) {
        if (breach == Breach::none) {
            breach = kind;
            breach_line = script_line(running);
        }
    }

    std::size_t headroom() const { return memory_cap - std::min(memory_in_use, memory_cap); }

    Limits limits;
    std::string chunk_name;
    lua_State* L = nullptr;

    std::size_t memory_in_use = 0;
    std::size_t memory_cap = std::numeric_limits<std::size_t>::max();
    // Lua retries a refused allocation once after an emergency collection; only a second
    // refusal of the same request means the live data really exceeds the cap.
    std::optional<AllocationRequest> refused_once;

    std::uint64_t instructions = 0;
    // Instructions charged since the wall clock was last read.
    std::uint64_t unclocked_instructions = 0;
    Clock::time_point deadline = Clock::time_point::max();
    Breach breach = Breach::none;
    std::string breach_line;

    bool capture_log = false;
    RunLog log;
    std::size_t log_bytes = 0;

    // Per function (told apart by the line it is defined on, 0 for the top level) one flag per
    // line of the source, set by the line hook once count_lines() turned it on. A line can hold
    // code of two functions: `end` of `function f() ... end` closes f and creates it at the top level.
    LinesRun lines_run;
    int source_lines = 0;

    int chunk_ref = LUA_NOREF;
    int environment_ref = LUA_NOREF;
    int environment_metatable_ref = LUA_NOREF;
    std::array<int, kBreaches.size()> breach_message_refs{};
};

Interpreter& interpreter_of(lua_State* L) {
    void* user_data = nullptr;
    lua_getallocf(L, &user_data);
    return *static_cast<Interpreter*>(user_data);
}

void* allocate(void* user_data, void* block, std::size_t old_size, std::size_t new_size) {
    auto& vm = *static_cast<Interpreter*>(user_data);
    // Without a block, old_size encodes the kind of object being created, not a size.
    const std::size_t held = block != nullptr ? old_size : 0;
    if (new_size == 0) {
        std::free(block);
        vm.memory_in_use -= held;
        return nullptr;
    }
    const bool grows = new_size > held;
    if (grows && new_size - held > vm.headroom()) {
        const AllocationRequest request{block, old_size, new_size};
        if (vm.refused_once == request) {
            vm.note_breach(Breach::memory, vm.L);
        }
        vm.refused_once = request;
        return nullptr;
    }
    void* resized = std::realloc(block, new_size);
    if (resized == nullptr) {
        return nullptr;
    }
    vm.memory_in_use = vm.memory_in_use - held + new_size;
    if (grows) {
        vm.refused_once.reset();
    }
    return resized;
}

int raise_breach(lua_State* L, const Interpreter& vm) {
    lua_rawgeti(L, LUA_REGISTRYINDEX,
                vm.breach_message_refs[static_cast<std::size_t>(vm.breach) - 1]);
    return lua_error(L);
}

void raise_if_breached(lua_State* L) {
    const Interpreter& vm = interpreter_of(L);
    if (vm.breach != Breach::none) {
        raise_breach(L, vm);
    }
}

void check_limits(lua_State* L, Interpreter& vm) {
    if (vm.breach != Breach::none) return;
    if (vm.instructions > vm.limits.instruction_budget) {
        vm.note_breach(Breach::instructions, L);
    } else if (vm.unclocked_instructions >= kHookInterval) {
        vm.unclocked_instructions = 0;
        if (Clock::now() >= vm.deadline) vm.note_breach(Breach::wall_clock, L);
    }
}

// Lua copies the hook into every thread it creates, so coroutines are charged to the same
// budget. Raising from here leaves the thread with hooks off, hence the guards below.
void count_hook(lua_State* L, lua_Debug*) {
    charge_work(L, kHookInterval);
}

// The count hook plus a note of every line run, for coverage (Sandbox::count_lines).
void count_and_line_hook(lua_State* L, lua_Debug* event) {
    if (event->event != LUA_HOOKLINE) {
        count_hook(L, event);
        return;
    }
    auto& lines_run = interpreter_of(L).lines_run;
    lua_getinfo(L, "S", event);
    const auto function = static_cast<std::size_t>(std::max(event->linedefined, 0));
    const auto line = static_cast<std::size_t>(event->currentline);
    if (function >= lines_run.size() || line >= lines_run.size()) return;
    try {
        auto& lines = lines_run[function];
        if (lines.empty()) lines.resize(lines_run.size());
        lines[line] = 1;
    } catch (const std::bad_alloc&) {
        // A coverage report short of memory misses a line; the run itself goes on.
    }
}

// log(...): off, it returns at once; capturing, it keeps its arguments as one line (separated by
// spaces, tables shown with their fields) while the run's log has room, else counts the line.
// Building the line is charged to the budget like any other C work.
int log_line(lua_State* L) {
    Interpreter& vm = interpreter_of(L);
    if (!vm.capture_log) return 0;
    const int arguments = lua_gettop(L);
    const std::size_t room =
        vm.limits.max_log_bytes - std::min(vm.log_bytes, vm.limits.max_log_bytes);
    if (vm.log.lines.size() >= vm.limits.max_log_lines || room == 0) {
        ++vm.log.dropped_lines;
        return 0;
    }
    std::string line;
    for (int argument = 1; argument <= arguments && line.size() <= room; ++argument) {
        if (argument > 1) line += ' ';
        line += value_text(L, argument, room + 1 - std::min(line.size(), room), false);
    }
    if (line.size() > room) {
        ++vm.log.dropped_lines;
        return 0;
    }
    const std::size_t bytes = line.size();
    vm.log_bytes += bytes;
    vm.log.lines.push_back(valid_utf8(line));
    charge_bytes(L, bytes);
    return 0;
}

int refuse_library_write(lua_State* L) {
    return luaL_error(L, "library tables are read-only");
}

bool is_library_proxy(lua_State* L, int index) {
    if (lua_getmetatable(L, index) == 0) {
        return false;
    }
    lua_pushliteral(L, "__newindex");
    lua_rawget(L, -2);
    const bool proxy = lua_tocfunction(L, -1) == refuse_library_write;
    lua_pop(L, 2);
    return proxy;
}

int guarded_rawset(lua_State* L) {
    if (is_library_proxy(L, 1)) {
        return refuse_library_write(L);
    }
    return call_guarded(L);
}

// Finalizers run with hooks off, so a looping __gc could never be stopped.
int guarded_setmetatable(lua_State* L) {
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        const bool finalizer = lua_rawget(L, 2) != LUA_TNIL;
        lua_pop(L, 1);
        if (finalizer) {
            return luaL_error(L, "__gc metamethods are not allowed");
        }
    }
    return call_guarded(L);
}

int finish_protected_call(lua_State* L, int status, lua_KContext extra_slots) {
    if (status == LUA_OK || status == LUA_YIELD) {
        return lua_gettop(L) - static_cast<int>(extra_slots);
    }
    Interpreter& vm = interpreter_of(L);
    if (status == LUA_ERRMEM) {
        vm.note_breach(Breach::memory, L);
    }
    if (vm.breach != Breach::none) {
        return raise_breach(L, vm);
    }
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
}

int protected_call(lua_State* L) {
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    const int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_protected_call);
    return finish_protected_call(L, status, 0);
}

// An error raised by the hook reaches the message handler with hooks still off.
int guarded_message_handler(lua_State* L) {
    if (interpreter_of(L).breach != Breach::none) {
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

int protected_call_with_handler(lua_State* L) {
    const int top = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_message_handler, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);
    const int status = lua_pcallk(L, top - 2, LUA_MULTRET, 2, 2, finish_protected_call);
    return finish_protected_call(L, status, 2);
}

int guarded_resume(lua_State* L) {
    const int results = call_guarded(L);
    if (lua_toboolean(L, -results) == 0) {
        raise_if_breached(L);
    }
    return results;
}

// A coroutine stopped by a breach keeps hooks off, so its __close handlers must never run.
int guarded_close(lua_State* L) {
    raise_if_breached(L);
    return call_guarded(L);
}

// coroutine.wrap's generator, rebuilt on the guarded resume: the stock one closes a failed
// coroutine even when a breach stopped it.
int resume_wrapped_coroutine(lua_State* L) {
    lua_State* coroutine = lua_tothread(L, lua_upvalueindex(1));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    const int results = lua_tocfunction(L, lua_upvalueindex(2))(L);
    if (lua_toboolean(L, -results) != 0) {
        return results - 1;
    }
    raise_if_breached(L);
    int status = lua_status(coroutine);
    if (status != LUA_OK && status != LUA_YIELD) {
        status = lua_resetthread(coroutine);
        lua_xmove(coroutine, L, 1);
    }
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

int wrap_coroutine(lua_State* L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State* coroutine = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, coroutine, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, resume_wrapped_coroutine, 2);
    return 1;
}

// The iterator `pairs` returns. Upvalues: the table, the snapshot of its keys, their order
// (userdata of OrderedKey) and the position reached. A key removed during the traversal is
// skipped; a key added is not visited (adding keys while traversing is undefined in stock Lua).
int next_in_order(lua_State* L) {
    const auto* order = static_cast<const OrderedKey*>(lua_touserdata(L, lua_upvalueindex(3)));
    // The snapshot may hold fewer keys than the order has room for: a weak table can lose
    // entries to a collection between counting and copying its keys.
    const auto count = static_cast<lua_Integer>(lua_rawlen(L, lua_upvalueindex(2)));
    lua_Integer position = lua_tointeger(L, lua_upvalueindex(4));
    while (position < count) {
        lua_rawgeti(L, lua_upvalueindex(2), order[position++].slot);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {
            lua_pushinteger(L, position);
            lua_replace(L, lua_upvalueindex(4));
            return 2;
        }
        lua_pop(L, 2);
    }
    lua_pushinteger(L, position);
    lua_replace(L, lua_upvalueindex(4));
    return 0;
}

// `pairs` with an order independent of the hash seed (see OrderedKey), so that a scorecard that
// sums floats or breaks ties in `pairs` order gives the same bytes in every process. A value
// with a `__pairs` metamethod, or a non-table, gets the stock `pairs` (the guard's upvalue).
// The snapshot lives in Lua memory (under the cap) and the sort is charged to the budget.
int ordered_pairs(lua_State* L) {
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL || lua_type(L, 1) != LUA_TTABLE) {
        lua_settop(L, 1);
        return call_guarded(L);
    }
    lua_settop(L, 1);
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        lua_pop(L, 1);
        ++count;
    }
    std::uint64_t comparisons_per_key = 1;
    while ((lua_Integer{1} << comparisons_per_key) < count) ++comparisons_per_key;
    charge_work(L, static_cast<std::uint64_t>(count) * (1 + comparisons_per_key));

    lua_pushvalue(L, 1);
    lua_createtable(
        L, static_cast<int>(std::min<lua_Integer>(count, std::numeric_limits<int>::max())), 0);
    const int keys = lua_gettop(L);
    auto* order = static_cast<OrderedKey*>(
        lua_newuserdatauv(L, static_cast<std::size_t>(count) * sizeof(OrderedKey), 0));
    lua_Integer slot = 0;
    lua_pushnil(L);
    while (lua_next(L, 1) != 0 && slot < count) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++slot);
        order[slot - 1] = ordered_key(L, -1, slot);
    }
    lua_settop(L, keys + 1);
    std::sort(order, order + slot, [](const OrderedKey& a, const OrderedKey& b) { return a < b; });
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, next_in_order, 4);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

void remove_field(lua_State* L, int table, const char* name) {
    table = lua_absindex(L, table);
    lua_pushnil(L);
    lua_setfield(L, table, name);
}

void set_function(lua_State* L, int table, const char* name, lua_CFunction function) {
    lua_pushcfunction(L, function);
    lua_setfield(L, table, name);
}

// Opens library `name` and publishes it in `globals` behind a proxy: scripts read through
// __index and can neither write nor reach the table itself. Leaves the real table on the stack.
void open_library(lua_State* L, int globals, const char* name, lua_CFunction open) {
    luaL_requiref(L, name, open, 0);
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, refuse_library_write);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setfield(L, globals, name);
}

int install_sandbox(lua_State* L) {
    Interpreter& vm = interpreter_of(L);

    luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
    const int globals = lua_gettop(L);
    for (const char* unsafe :
         {"dofile", "loadfile", "load", "collectgarbage", "print", "warn", LUA_GNAME}) {
        remove_field(L, globals, unsafe);
    }
    guard_field(L, globals, "rawset", guarded_rawset);
    guard_field(L, globals, "setmetatable", guarded_setmetatable);
    guard_field(L, globals, "pairs", ordered_pairs);
    bound_base_library(L, globals);
    set_function(L, globals, "pcall", protected_call);
    set_function(L, globals, "xpcall", protected_call_with_handler);
    set_function(L, globals, "log", log_line);

    open_library(L, globals, LUA_STRLIBNAME, luaopen_string);
    remove_field(L, -1, "dump");
    install_budgeted_pattern_matching(L, -1);
    bound_string_library(L, -1);
    lua_pop(L, 1);
    // The string metatable (its __index is the real string table) must stay out of reach.
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    bound_string_arithmetic(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    open_library(L, globals, LUA_MATHLIBNAME, luaopen_math);
    remove_field(L, -1, "random");
    remove_field(L, -1, "randomseed");
    lua_pop(L, 1);

    open_library(L, globals, LUA_TABLIBNAME, luaopen_table);
    bound_table_library(L, -1);
    lua_pop(L, 1);
    open_library(L, globals, LUA_UTF8LIBNAME, luaopen_utf8);
    bound_utf8_library(L, -1);
    lua_pop(L, 1);

    open_library(L, globals, LUA_COLIBNAME, luaopen_coroutine);
    lua_getfield(L, -1, "resume");
    lua_pushcclosure(L, wrap_coroutine, 1);
    lua_setfield(L, -2, "wrap");
    guard_field(L, -1, "resume", guarded_resume);
    guard_field(L, -1, "close", guarded_close);
    lua_pop(L, 1);

    // Each run's environment falls back to these globals and cannot reach them directly.
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, globals);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    vm.environment_metatable_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_pushboolean(L, 0);
    vm.environment_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    for (std::size_t i = 0; i < kBreaches.size(); ++i) {
        lua_pushstring(L, kBreaches[i].message);
        vm.breach_message_refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

// Runs `body` (a callable taking the lua_State) in protected mode, so that allocation failures
// become a status instead of a panic. `body` must not throw.
template <typename Body>
int run_protected(lua_State* L, Body& body, int results) {
    lua_pushcfunction(L, [](lua_State* state) -> int {
        return (*static_cast<Body*>(lua_touserdata(state, 1)))(state);
    });
    lua_pushlightuserdata(L, &body);
    return lua_pcall(L, 1, results, 0);
}

// Restores the stack height on every exit of a host-side operation.
class StackGuard {
public:
    explicit StackGuard(lua_State* L) : L_(L), top_(lua_gettop(L)) {}
    ~StackGuard() { lua_settop(L_, top_); }
    StackGuard(const StackGuard&) = delete;
    StackGuard& operator=(const StackGuard&) = delete;

private:
    lua_State* L_;
    int top_;
};

// The error object at the top of the stack as text, without running any metamethod. A message
// is any bytes a script chose (or a compile error quoting the source); it travels on as JSON
// text, so bytes that are not UTF-8 become U+FFFD.
std::string error_text(lua_State* L) {
    switch (lua_type(L, -1)) {
        case LUA_TSTRING: {
            std::size_t length = 0;
            const char* text = lua_tolstring(L, -1, &length);
            return valid_utf8(std::string_view(text, length));
        }
        case LUA_TNUMBER:
            return lua_isinteger(L, -1) ? std::to_string(lua_tointeger(L, -1))
                                        : std::to_string(lua_tonumber(L, -1));
        case LUA_TTABLE:
            return valid_utf8(value_text(L, -1, kErrorObjectBytes, true));
        default:
            return std::string("(error object is a ") + luaL_typename(L, -1) + " value)";
    }
}

}  // namespace

void charge_work(lua_State* L, std::uint64_t units) {
    Interpreter& vm = interpreter_of(L);
    vm.instructions += units;
    vm.unclocked_instructions += units;
    check_limits(L, vm);
    if (vm.breach != Breach::none) raise_breach(L, vm);
}

std::size_t memory_headroom(lua_State* L) {
    return interpreter_of(L).headroom();
}

void raise_memory_breach(lua_State* L) {
    Interpreter& vm = interpreter_of(L);
    vm.note_breach(Breach::memory, L);
    raise_breach(L, vm);
    std::abort();  // lua_error does not return
}

std::string_view to_string(FailureKind kind) {
    switch (kind) {
        case FailureKind::compile_error:
            return "compile_error";
        case FailureKind::script_error:
            return "script_error";
        case FailureKind::budget_exceeded:
            return "budget_exceeded";
        case FailureKind::memory_exceeded:
            return "memory_exceeded";
        case FailureKind::no_such_function:
            return "no_such_function";
        case FailureKind::bad_value:
            return "bad_value";
    }
    return "unknown";
}

struct Sandbox::State final : Interpreter {
    using Interpreter::Interpreter;

    [[noreturn]] void throw_breach() const {
        const BreachDescription& description = describe(breach);
        throw LuaError(description.kind, chunk_name + ": " + description.message +
                                             (breach_line.empty() ? "" : " at " + breach_line));
    }

    void throw_if_breached() const {
        if (breach != Breach::none) {
            throw_breach();
        }
    }

    // Turns the status of a protected call that ran script code into the matching LuaError.
    void throw_on_failure(int status) {
        if (status == LUA_ERRMEM) {
            note_breach(Breach::memory, L);
        }
        throw_if_breached();
        if (status != LUA_OK) {
            throw LuaError(FailureKind::script_error, error_text(L));
        }
    }

    void set_memory_cap(std::size_t extra) {
        memory_cap = memory_in_use +
                     std::min(extra, std::numeric_limits<std::size_t>::max() - memory_in_use);
    }
};

Sandbox::Sandbox(std::string_view source, std::string_view chunk_name, Limits limits)
    : state_(std::make_unique<State>(limits, chunk_name)) {
    State& state = *state_;
    state.source_lines = static_cast<int>(std::count(source.begin(), source.end(), '\n')) + 1;
    state.L = lua_newstate(allocate, &state);
    if (state.L == nullptr) {
        throw LuaError(FailureKind::memory_exceeded,
                       state.chunk_name + ": cannot create a Lua state");
    }
    lua_State* L = state.L;
    const StackGuard stack(L);
    lua_pushcfunction(L, install_sandbox);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        throw LuaError(FailureKind::memory_exceeded, state.chunk_name + ": " + error_text(L));
    }

    state.set_memory_cap(limits.memory_bytes);
    const std::string lua_chunk_name = "=" + state.chunk_name;
    int load_status = LUA_OK;
    auto compile = [&](lua_State* vm) {
        load_status =
            luaL_loadbufferx(vm, source.data(), source.size(), lua_chunk_name.c_str(), "t");
        if (load_status != LUA_OK) {
            return 1;
        }
        state.chunk_ref = luaL_ref(vm, LUA_REGISTRYINDEX);
        return 0;
    };
    const int status = run_protected(L, compile, 1);
    if (status != LUA_OK || load_status != LUA_OK) {
        const bool out_of_memory = status == LUA_ERRMEM || load_status == LUA_ERRMEM;
        throw LuaError(out_of_memory ? FailureKind::memory_exceeded : FailureKind::compile_error,
                       error_text(L));
    }
    lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookInterval);
}

Sandbox::~Sandbox() = default;

void Sandbox::begin_run(RunOptions options) {
    State& state = *state_;
    lua_State* L = state.L;
    const StackGuard stack(L);
    // The refused run's garbage would otherwise count against the next run's cap.
    if (state.breach == Breach::memory) {
        lua_gc(L, LUA_GCCOLLECT);
    }
    state.breach = Breach::none;
    state.breach_line.clear();
    state.capture_log = options.capture_log;
    state.log = RunLog{};
    state.log_bytes = 0;
    state.refused_once.reset();
    state.instructions = 0;
    state.unclocked_instructions = 0;
    state.deadline = Clock::now() + state.limits.wall_clock;
    state.set_memory_cap(state.limits.memory_bytes);

    auto run_chunk = [&state](lua_State* vm) {
        lua_createtable(vm, 0, 8);
        lua_rawgeti(vm, LUA_REGISTRYINDEX, state.environment_metatable_ref);
        lua_setmetatable(vm, -2);
        lua_pushvalue(vm, -1);
        lua_setfield(vm, -2, LUA_GNAME);
        lua_pushvalue(vm, -1);
        lua_rawseti(vm, LUA_REGISTRYINDEX, state.environment_ref);
        lua_rawgeti(vm, LUA_REGISTRYINDEX, state.chunk_ref);
        lua_insert(vm, -2);
        // The chunk's only upvalue is _ENV; the functions it defines share it.
        lua_setupvalue(vm, -2, 1);
        lua_call(vm, 0, 0);
        return 0;
    };
    state.throw_on_failure(run_protected(L, run_chunk, 0));
}

bool Sandbox::has_function(std::string_view name) const {
    lua_State* L = state_->L;
    const StackGuard stack(L);
    bool found = false;
    auto look_up = [&](lua_State* vm) {
        if (lua_rawgeti(vm, LUA_REGISTRYINDEX, state_->environment_ref) == LUA_TTABLE) {
            lua_pushlstring(vm, name.data(), name.size());
            found = lua_rawget(vm, -2) == LUA_TFUNCTION;
        }
        return 0;
    };
    return run_protected(L, look_up, 0) == LUA_OK && found;
}

boost::json::value Sandbox::call(std::string_view name, const boost::json::array& args) {
    State& state = *state_;
    state.throw_if_breached();
    if (args.size() > kMaxArguments) {
        throw LuaError(FailureKind::bad_value, state.chunk_name + ": more than " +
                                                   std::to_string(kMaxArguments) + " arguments");
    }
    for (const auto& arg : args) {
        check_enters_lua(arg, state.limits.max_string_bytes);
    }
    lua_State* L = state.L;
    const StackGuard stack(L);
    bool found = false;
    auto invoke = [&](lua_State* vm) {
        if (lua_rawgeti(vm, LUA_REGISTRYINDEX, state.environment_ref) != LUA_TTABLE) {
            return 0;
        }
        lua_pushlstring(vm, name.data(), name.size());
        found = lua_rawget(vm, -2) == LUA_TFUNCTION;
        if (!found) {
            return 0;
        }
        luaL_checkstack(vm, static_cast<int>(args.size()), "too many arguments");
        for (const auto& arg : args) {
            push_json(vm, arg);
        }
        lua_call(vm, static_cast<int>(args.size()), 1);
        return 1;
    };
    state.throw_on_failure(run_protected(L, invoke, 1));
    if (!found) {
        throw LuaError(FailureKind::no_such_function,
                       state.chunk_name + ": no global function '" + std::string(name) + "'");
    }
    return to_json(L, -1);
}

std::uint64_t Sandbox::instructions_used() const noexcept {
    return state_->instructions;
}

const RunLog& Sandbox::run_log() const noexcept {
    return state_->log;
}

void Sandbox::count_lines() {
    State& state = *state_;
    state.lines_run.assign(static_cast<std::size_t>(state.source_lines) + 1, {});
    lua_sethook(state.L, count_and_line_hook, LUA_MASKCOUNT | LUA_MASKLINE, kHookInterval);
}

namespace {

// Adds the function at the top of the stack, and the local functions it reaches through its
// upvalues, to `found` (once per prototype, told apart by where they are defined).
void collect_function(lua_State* L, const std::string& name, const LinesRun& lines_run,
                      std::vector<FunctionCoverage>& found) {
    if (lua_iscfunction(L, -1) || !lua_checkstack(L, 4)) return;
    lua_Debug info;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">SL", &info);  // pushes the table of lines holding code
    const bool known =
        std::any_of(found.begin(), found.end(), [&](const FunctionCoverage& function) {
            return function.first_line == info.linedefined &&
                   function.last_line == info.lastlinedefined;
        });
    if (known) {
        lua_pop(L, 1);
        return;
    }
    FunctionCoverage function{name, info.linedefined, info.lastlinedefined, {}, {}};
    static const std::vector<std::uint8_t> kNoneRun;
    const auto defined_at = static_cast<std::size_t>(std::max(info.linedefined, 0));
    const std::vector<std::uint8_t>& ran =
        defined_at < lines_run.size() ? lines_run[defined_at] : kNoneRun;
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pop(L, 1);
        function.lines.push_back(static_cast<int>(lua_tointeger(L, -1)));
    }
    lua_pop(L, 1);
    // A function's closing `end` holds only the implicit return, which no call reaches when the
    // body ends with a `return`: that line counts only once it ran.
    const auto closing_line = static_cast<std::size_t>(info.lastlinedefined);
    if (info.lastlinedefined > info.linedefined &&
        (closing_line >= ran.size() || ran[closing_line] == 0)) {
        std::erase(function.lines, info.lastlinedefined);
    }
    std::sort(function.lines.begin(), function.lines.end());
    for (const int line : function.lines) {
        const auto at = static_cast<std::size_t>(line);
        if (at >= ran.size() || ran[at] == 0) function.uncovered.push_back(line);
    }
    found.push_back(std::move(function));
    for (int upvalue = 1; const char* upvalue_name = lua_getupvalue(L, -1, upvalue); ++upvalue) {
        if (lua_type(L, -1) == LUA_TFUNCTION) {
            collect_function(L, std::string("local ") + upvalue_name, lines_run, found);
        }
        lua_pop(L, 1);
    }
}

}  // namespace

std::vector<FunctionCoverage> Sandbox::line_coverage() const {
    const State& state = *state_;
    lua_State* L = state.L;
    const StackGuard stack(L);
    std::vector<FunctionCoverage> found;
    auto collect = [&](lua_State* vm) {
        lua_rawgeti(vm, LUA_REGISTRYINDEX, state.chunk_ref);
        collect_function(vm, "top level", state.lines_run, found);
        lua_pop(vm, 1);
        if (lua_rawgeti(vm, LUA_REGISTRYINDEX, state.environment_ref) != LUA_TTABLE) return 0;
        const int environment = lua_gettop(vm);
        lua_pushnil(vm);
        while (lua_next(vm, environment) != 0) {
            if (lua_type(vm, -2) == LUA_TSTRING) {
                const std::string name = lua_tostring(vm, -2);
                if (lua_type(vm, -1) == LUA_TFUNCTION) {
                    collect_function(vm, name, state.lines_run, found);
                } else if (lua_type(vm, -1) == LUA_TTABLE && !lua_rawequal(vm, -1, environment)) {
                    const int table = lua_gettop(vm);
                    lua_pushnil(vm);
                    while (lua_next(vm, table) != 0) {
                        if (lua_type(vm, -2) == LUA_TSTRING && lua_type(vm, -1) == LUA_TFUNCTION) {
                            collect_function(vm, name + "." + lua_tostring(vm, -2), state.lines_run,
                                             found);
                        }
                        lua_pop(vm, 1);
                    }
                }
            }
            lua_pop(vm, 1);
        }
        return 0;
    };
    run_protected(L, collect, 0);
    std::sort(found.begin(), found.end(), [](const FunctionCoverage& a, const FunctionCoverage& b) {
        return a.first_line < b.first_line;
    });
    return found;
}

}  // namespace engined::lua
