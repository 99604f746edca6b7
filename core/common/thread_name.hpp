// Thread names: what `top -H`, `ps -L`, `perf` and gdb show for each of engined's threads.
#pragma once

#include <string_view>

namespace engined {

// Names the calling thread; Linux keeps the first 15 bytes.
void name_this_thread(std::string_view name);

}  // namespace engined
