#include "app/allocator.hpp"

#include <dlfcn.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// AddressSanitizer's runtime replaces malloc (the sanitizer builds): neither tcmalloc's nor
// glibc's figures describe it.
#if defined(__SANITIZE_ADDRESS__)
#define ENGINED_ASAN_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ENGINED_ASAN_MALLOC 1
#endif
#endif

namespace engined::app {

namespace {

// tcmalloc's C extension interface (gperftools' malloc_extension_c.h), looked up in the process
// rather than linked: it is there exactly when tcmalloc is.
using NumericProperty = int (*)(const char* property, std::size_t* value);

NumericProperty tcmalloc_property() {
    static const auto function = reinterpret_cast<NumericProperty>(
        dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"));
    return function;
}

}  // namespace

std::string_view allocator_name() {
    if (tcmalloc_property() != nullptr) return "tcmalloc";
#if defined(ENGINED_ASAN_MALLOC)
    return "sanitizer";
#elif defined(__GLIBC__)
    return "glibc";
#else
    return "system";
#endif
}

std::optional<AllocatorBytes> allocator_bytes() {
    if (const NumericProperty property = tcmalloc_property()) {
        std::size_t allocated = 0;
        std::size_t heap = 0;
        std::size_t unmapped = 0;
        if (!property("generic.current_allocated_bytes", &allocated) ||
            !property("generic.heap_size", &heap) ||
            !property("tcmalloc.pageheap_unmapped_bytes", &unmapped)) {
            return std::nullopt;
        }
        // The heap counts pages already given back to the system (unmapped) too.
        const std::size_t held = heap > unmapped ? heap - unmapped : 0;
        return AllocatorBytes{allocated, held > allocated ? held - allocated : 0};
    }
#if defined(__GLIBC__) && !defined(ENGINED_ASAN_MALLOC)
    const struct mallinfo2 info = mallinfo2();
    return AllocatorBytes{info.uordblks + info.hblkhd, info.fordblks};
#else
    return std::nullopt;
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
