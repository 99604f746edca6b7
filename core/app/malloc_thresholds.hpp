// Fixes glibc's malloc thresholds for the life of the process, so that one large transient
// allocation cannot make every thread's arena keep megabytes of freed memory resident.
#pragma once

#include <cstddef>

namespace engined::app {

// glibc's own starting values: a block this large or larger is mmap'ed and given back on
// free, and an arena returns free memory above this much at its top to the system.
inline constexpr std::size_t kMallocThresholdBytes = 128 * 1024;

// Sets both thresholds to kMallocThresholdBytes, which also turns off glibc's adjustment of
// them. Left dynamic, freeing an mmap'ed block of N bytes raises the mmap threshold to N and
// the trim threshold to 2N (up to 32 and 64 MiB): engined's start-up reads each plugin file
// whole to hash it (about 1 MiB), after which each of its threads' arenas held on to up to
// 2 MiB of freed memory, and RSS rose in steps whenever one of them reached a new peak (see
// docs/operations.md, "Soak"). No-op where the C library is not glibc.
void pin_malloc_thresholds();

}  // namespace engined::app
