#include "app/malloc_thresholds.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace engined::app {

void pin_malloc_thresholds() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMallocThresholdBytes));
    mallopt(M_TRIM_THRESHOLD, static_cast<int>(kMallocThresholdBytes));
#endif
}

}  // namespace engined::app
