#include "app/allocator.hpp"

#include <dlfcn.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace engined::app {

std::string_view allocator_name() {
    // tcmalloc's C extension interface is in the process exactly when tcmalloc is.
    if (dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty") != nullptr) return "tcmalloc";
#if defined(__GLIBC__)
    return "glibc";
#else
    return "system";
#endif
}

void pin_malloc_thresholds() {
#if defined(__GLIBC__)
    if (allocator_name() != "glibc") return;
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMallocThresholdBytes));
    mallopt(M_TRIM_THRESHOLD, static_cast<int>(kMallocThresholdBytes));
#endif
}

}  // namespace engined::app
