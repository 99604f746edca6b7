// core/lua — what the sandbox's library guards share with the sandbox (internal to core/lua):
// charging work done in C to the run's instruction budget, and the run's memory headroom. Work
// inside a C function is invisible to the count hook, so every library function whose work is
// not constant charges it here; the wall clock is checked at the same points as the hook checks
// it, so no single call can outlast either limit by much.
#pragma once

#include <cstddef>
#include <cstdint>
#include <lua.hpp>

namespace engined::lua {

// Bytes copied or scanned in C that cost as much as one VM instruction.
inline constexpr std::uint64_t kBytesPerInstruction = 16;

// Adds `units` to the run's instruction count. When the budget is spent or the wall clock has
// run out, records the breach and raises it as a Lua error (sticky: pcall re-raises it).
void charge_work(lua_State* L, std::uint64_t units);

// The same, for `bytes` bytes of C work.
inline void charge_bytes(lua_State* L, std::uint64_t bytes) {
    charge_work(L, bytes / kBytesPerInstruction);
}

// Bytes the run may still allocate before its memory cap.
std::size_t memory_headroom(lua_State* L);

// Records a memory breach and raises it.
[[noreturn]] void raise_memory_breach(lua_State* L);

}  // namespace engined::lua
