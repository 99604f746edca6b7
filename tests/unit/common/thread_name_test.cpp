#include "common/thread_name.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <string_view>
#include <thread>

namespace engined {
namespace {

// The name the kernel holds for the calling thread.
std::string own_thread_name() {
    std::ifstream comm("/proc/self/task/" + std::to_string(::gettid()) + "/comm");
    std::string name;
    std::getline(comm, name);
    return name;
}

// What a new thread that named itself `name` reads back from the kernel.
std::string name_held_by_a_thread_named(std::string_view name) {
    std::string held;
    std::thread([&held, name] {
        name_this_thread(name);
        held = own_thread_name();
    }).join();
    return held;
}

TEST(ThreadName, NamesTheCallingThreadOnly) {
    const std::string before = own_thread_name();
    EXPECT_EQ(name_held_by_a_thread_named("engined-test"), "engined-test");
    EXPECT_EQ(own_thread_name(), before);
}

TEST(ThreadName, ALongNameKeepsItsFirstFifteenBytes) {
    EXPECT_EQ(name_held_by_a_thread_named("engined-a-much-longer-name"), "engined-a-much-");
}

}  // namespace
}  // namespace engined
