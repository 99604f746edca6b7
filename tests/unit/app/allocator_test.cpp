#include "app/allocator.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace engined::app {
namespace {

#if defined(__GLIBC__)
constexpr std::size_t kMiB = 1024 * 1024;

// A sanitizer build's runtime replaces glibc's malloc, which the tests below are about.
bool glibc_serves() {
    return allocator_name() == "glibc";
}

// Touches every page, so that the block is really used and its allocation cannot be elided.
void* allocate_touched(std::size_t bytes) {
    auto* block = static_cast<volatile char*>(std::malloc(bytes));
    for (std::size_t i = 0; i < bytes; i += 4096) block[i] = 1;
    return const_cast<char*>(block);
}

// Freeing a 4 MiB block would, with glibc's dynamic thresholds, move the mmap threshold to
// 4 MiB and the trim threshold to 8 MiB.
void allocate_and_free_a_large_block() {
    std::free(allocate_touched(4 * kMiB));
}

TEST(MallocThresholds, ALargeFreedBlockDoesNotMoveTheMmapThreshold) {
    if (!glibc_serves()) GTEST_SKIP() << "malloc is " << allocator_name();
    pin_malloc_thresholds();
    allocate_and_free_a_large_block();
    const std::size_t mapped_before = mallinfo2().hblkhd;
    void* block = allocate_touched(kMiB);
    const std::size_t mapped_with_block = mallinfo2().hblkhd;
    std::free(block);
    EXPECT_GE(mapped_with_block - mapped_before, kMiB);
}

TEST(MallocThresholds, FreedArenaMemoryAboveTheThresholdGoesBackToTheSystem) {
    if (!glibc_serves()) GTEST_SKIP() << "malloc is " << allocator_name();
    pin_malloc_thresholds();
    allocate_and_free_a_large_block();
    const std::size_t arena_before = mallinfo2().arena;
    // Below the mmap threshold, so they come from the arena; 6 MiB in all, under the 8 MiB a
    // dynamic trim threshold would keep. Reserved first: a vector buffer allocated between the
    // blocks would pin the arena below it.
    constexpr int kBlocks = 96;
    std::vector<void*> blocks;
    blocks.reserve(kBlocks);
    for (int i = 0; i < kBlocks; ++i) blocks.push_back(allocate_touched(kMallocThresholdBytes / 2));
    const std::size_t arena_grown = mallinfo2().arena;
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
    const std::size_t arena_after = mallinfo2().arena;
    EXPECT_GE(arena_grown - arena_before, 5 * kMiB);
    EXPECT_LE(arena_after, arena_before + 2 * kMallocThresholdBytes);
}

// A block held shows in the allocated figure until it is freed.
TEST(Allocator, TheAllocatedFigureFollowsWhatIsHeld) {
    if (!glibc_serves()) GTEST_SKIP() << "malloc is " << allocator_name();
    const std::size_t before = allocator_bytes().value().allocated;
    void* block = allocate_touched(8 * kMiB);
    const std::size_t holding = allocator_bytes().value().allocated;
    std::free(block);
    const std::size_t after = allocator_bytes().value().allocated;
    EXPECT_GE(holding, before + 8 * kMiB);
    EXPECT_LE(after, holding - 8 * kMiB);
}

// This test binary is not linked with tcmalloc: the name must not claim it is (the engined
// binary's own is checked by tests/integration/allocator_test.cpp).
TEST(Allocator, AProcessWithoutTcmallocIsNotNamedTcmalloc) {
    const std::string_view name = allocator_name();
    EXPECT_TRUE(name == "glibc" || name == "sanitizer") << name;
}
#else
TEST(MallocThresholds, OnlyGlibcHasThem) {
    GTEST_SKIP() << "not glibc";
}
#endif

}  // namespace
}  // namespace engined::app
