// core/lua — the sandboxed Lua 5.4 host (SPEC §8). Owns lua_State lifetimes, the sandboxed
// environment, instruction and memory budgets, JSON <-> Lua marshalling and the per-worker
// script cache. Knows nothing of engines, HTTP or the store.
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace engined::lua {

struct Limits {
    // VM instructions a run may spend, across every call and coroutine of that run; work done
    // inside C library calls (pattern matching, string.rep, table.move, ...) is charged to it.
    uint64_t instruction_budget = 50'000'000;
    // Bytes the run's Lua allocations may add on top of the compiled script.
    std::size_t memory_bytes = 32u * 1024u * 1024u;
    // Wall-clock ceiling for a run, checked by the count hook and wherever a library function
    // charges its work in C, every 1000 instructions charged.
    std::chrono::milliseconds wall_clock{2000};
    // Longest string handed from JSON into Lua; longer input is refused before Lua sees it.
    std::size_t max_string_bytes = 64u * 1024u;
    // What a capturing run keeps of its log(...) lines: so many lines, so many bytes in all.
    // Lines past either cap are counted, not kept.
    std::size_t max_log_lines = 100;
    std::size_t max_log_bytes = 16u * 1024u;
};

// How one run treats the script's log(...) calls. Off (the server's default), log is a call that
// returns at once and keeps nothing; on (an engine's debug flag, `enginectl lua test`), each call
// keeps one line of text within Limits::max_log_lines and max_log_bytes.
struct RunOptions {
    bool capture_log = false;
};

// The log(...) lines one capturing run kept, and how many more it dropped past the caps.
struct RunLog {
    std::vector<std::string> lines;
    std::size_t dropped_lines = 0;
};

// The lines of one function of the script that hold code, and those no counted run reached.
struct FunctionCoverage {
    std::string name;  // "weights", "M.rank", "local clamp", or "top level" for the chunk
    int first_line = 0;
    int last_line = 0;
    std::vector<int> lines;
    std::vector<int> uncovered;
};

enum class FailureKind {
    compile_error,     // the source does not compile (or is not text)
    script_error,      // a runtime error raised by the script
    budget_exceeded,   // instruction budget or wall-clock ceiling reached
    memory_exceeded,   // the allocator refused past the memory cap
    no_such_function,  // the called global is not a function
    bad_value,         // a value cannot cross between JSON and Lua (cycles, functions, NaN, ...)
};

// "compile_error", "budget_exceeded", ...: the enumerator's name.
std::string_view to_string(FailureKind kind);

class LuaError : public std::runtime_error {
public:
    LuaError(FailureKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind), message_(message) {}
    FailureKind kind() const noexcept { return kind_; }
    // The whole message: what() is a C string and stops at the first NUL a script put in it.
    const std::string& message() const noexcept { return message_; }

private:
    FailureKind kind_;
    std::string message_;
};

// One compiled script in its own lua_State. Not thread-safe: a worker thread owns it.
// The compiled chunk is kept; every run gets a fresh global environment, so nothing a run
// leaves behind is visible to the next.
class Sandbox {
public:
    // Compiles `source` in text mode; throws LuaError(compile_error).
    Sandbox(std::string_view source, std::string_view chunk_name, Limits limits = {});
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    // Starts a run: resets the budgets and the log, builds a fresh environment and executes the
    // chunk in it (which defines the script's functions). Throws LuaError if the chunk fails.
    void begin_run(RunOptions options = {});

    // The log(...) lines of the current run (empty unless it captures them).
    const RunLog& run_log() const noexcept;

    // Counts, from now on, every line of the script a run executes, for coverage reports of
    // authoring tools. A line hook fires on every line and costs the VM far more than the count
    // hook: the server never turns it on.
    void count_lines();

    // Per function the current run's environment reaches (its global functions, functions kept
    // in global tables, and the local functions they use as upvalues, plus the top level): the
    // lines holding code and those not executed since count_lines().
    std::vector<FunctionCoverage> line_coverage() const;

    // Whether the current run's environment holds a global function `name`.
    bool has_function(std::string_view name) const;

    // Calls global `name` with `args` (each element one argument) and returns the first result
    // converted to JSON (null when none). Throws LuaError. Once the run breached its budget or
    // memory cap, every call throws the same breach until the next begin_run().
    boost::json::value call(std::string_view name, const boost::json::array& args);

    // Instructions charged to the current run so far (granularity: the hook interval).
    uint64_t instructions_used() const noexcept;

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Per-worker cache of compiled scripts keyed by the source's SHA-256.
class ScriptCache {
public:
    explicit ScriptCache(Limits limits = {}, std::size_t capacity = 64);

    // The cached sandbox for `source` (compiling it on first use), found by `source_key`: what
    // identifies the source, e.g. its SHA-256, computed once by a caller that runs it many times;
    // one key must always come with the same source. Throws LuaError(compile_error).
    Sandbox& get(std::string_view source_key, std::string_view source, std::string_view chunk_name);

    std::size_t size() const noexcept { return entries_.size(); }

private:
    // Searched with the caller's view of the key, without a string made for each run.
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const noexcept {
            return std::hash<std::string_view>{}(key);
        }
    };

    Limits limits_;
    std::size_t capacity_;
    std::unordered_map<std::string, std::unique_ptr<Sandbox>, KeyHash, std::equal_to<>> entries_;
};

}  // namespace engined::lua
