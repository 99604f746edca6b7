// engined as a child process on loopback, for tests that must kill it (SIGKILL) or restart it
// on the same data directory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace engined::testing {

uint16_t free_loopback_port();

// A key of organisation "acme" in the test environment, issued straight into the store file.
std::string create_key_in(const std::filesystem::path& data_dir);

class ChildEngined {
public:
    // Starts build/engined on 127.0.0.1:`port` with one worker (so that a backlog forms) and no
    // practical rate limit, plus `extra_args`; waits until /health answers. Logs go to
    // <data_dir>/engined.log.
    ChildEngined(const std::filesystem::path& data_dir, uint16_t port, const std::vector<std::string>& extra_args = {});
    ~ChildEngined();
    ChildEngined(const ChildEngined&) = delete;
    ChildEngined& operator=(const ChildEngined&) = delete;

    void kill_hard();
    // SIGTERM; the wait status.
    int terminate_gracefully();

private:
    pid_t pid_ = -1;
};

}  // namespace engined::testing
