#include "common/thread_name.hpp"

#include <pthread.h>

#include <algorithm>

namespace engined {

void name_this_thread(std::string_view name) {
    constexpr std::size_t kLinuxNameBytes = 15;
    char buffer[kLinuxNameBytes + 1] = {};
    name.copy(buffer, std::min(name.size(), kLinuxNameBytes));
    pthread_setname_np(pthread_self(), buffer);
}

}  // namespace engined
