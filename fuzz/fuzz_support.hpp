// What the harnesses share: the libFuzzer entry point's signature and the way a broken
// invariant is reported (an abort, which libFuzzer and the replay driver both treat as a crash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace engined::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

inline void require(bool holds, std::string_view target, const std::string& what) {
    if (holds) return;
    std::fprintf(stderr, "%.*s: invariant broken: %s\n", static_cast<int>(target.size()),
                 target.data(), what.c_str());
    std::abort();
}

}  // namespace engined::fuzz
