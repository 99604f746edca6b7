// Thread names: what `top -H`, `ps -L`, `perf` and gdb show for each of engined's threads.
#pragma once

#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace engined {

// Names the calling thread; Linux keeps the first 15 bytes.
void name_this_thread(std::string_view name);

// A thread that names itself `name`, then runs `body`.
template <class Body>
std::thread named_thread(std::string name, Body body) {
    return std::thread([name = std::move(name), body = std::move(body)]() mutable {
        name_this_thread(name);
        body();
    });
}

}  // namespace engined
