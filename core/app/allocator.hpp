// The process's malloc: which allocator serves it, and glibc's thresholds fixed for the life of the
// process. The engined binary is linked with tcmalloc unless built with -DENGINED_ALLOCATOR=system
// (sanitizer and fuzzing builds always are: they bring a malloc of their own); see
// docs/operations.md, "Memory".
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace engined::app {

// "tcmalloc" when tcmalloc replaced malloc in this process, "sanitizer" in an AddressSanitizer
// build, otherwise "glibc" (or "system" on another C library). Read from the process itself, not from the build's settings, so that the log
// says what really allocates.
std::string_view allocator_name();

// What the allocator serving the process holds, in bytes: handed out and not yet freed, and freed
// but kept for reuse instead of given back to the system (tcmalloc: its page heap, central and
// thread caches; glibc: the free space of its arenas). nullopt when neither of them serves.
struct AllocatorBytes {
    std::size_t allocated = 0;
    std::size_t cached = 0;
};
std::optional<AllocatorBytes> allocator_bytes();

// glibc's own starting values: a block this large or larger is mmap'ed and given back on
// free, and an arena returns free memory above this much at its top to the system.
inline constexpr std::size_t kMallocThresholdBytes = 128 * 1024;

// Sets both thresholds to kMallocThresholdBytes, which also turns off glibc's adjustment of
// them, so that one large transient allocation cannot make every thread's arena keep megabytes of
// freed memory resident. Left dynamic, freeing an mmap'ed block of N bytes raises the mmap
// threshold to N and the trim threshold to 2N (up to 32 and 64 MiB): engined's start-up reads
// each plugin file whole to hash it (about 1 MiB), after which each of its threads' arenas held on
// to up to 2 MiB of freed memory, and RSS rose in steps whenever one of them reached a new peak
// (see docs/operations.md, "Soak"). No-op where glibc's malloc is not the one in use.
void pin_malloc_thresholds();

}  // namespace engined::app
