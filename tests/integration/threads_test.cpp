// The serving binary's threads as an operator sees them in `top -H` or `ps -L`: each named after
// its part, and the workers that execute runs at a lower priority than the HTTP threads and the
// store's writer every run passes through.
#include "test_server.hpp"

#include "queue/worker_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>

namespace engined::testing {
namespace {

struct ThreadSeen {
    std::string name;
    int nice = 0;
};

// Every thread of `pid` from /proc: its name and its nice value (field 19 of its stat line).
std::vector<ThreadSeen> threads_of(pid_t pid) {
    std::vector<ThreadSeen> threads;
    const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(tasks)) {
        ThreadSeen thread;
        thread.name = read_text(task.path() / "comm");
        if (!thread.name.empty() && thread.name.back() == '\n') thread.name.pop_back();
        const std::string stat = read_text(task.path() / "stat");
        // The fields after the name, which may hold spaces, start past its closing parenthesis.
        std::istringstream fields(stat.substr(stat.rfind(')') + 2));
        std::string field;
        for (int index = 3; index <= 19 && fields >> field; ++index) {
            if (index == 19) thread.nice = std::stoi(field);
        }
        threads.push_back(thread);
    }
    return threads;
}

TEST(Threads, EachThreadOfTheServingBinaryIsNamedAndItsWorkersYieldToTheRest) {
    const std::filesystem::path data_dir = fresh_temp_dir("engined-threads");
    {
        const uint16_t port = chaos::free_loopback_port();
        chaos::ChildEngined engined(child_launch(data_dir, {"--workers", "2"}), port);
        const ApiResponse submitted = run_placement_on_child(data_dir, port);
        ASSERT_EQ(submitted.status, 200) << submitted.body;

        std::map<std::string, int> count;
        std::map<std::string, int> nice;
        for (const ThreadSeen& thread : threads_of(engined.pid())) {
            ++count[thread.name];
            nice[thread.name] = thread.nice;
        }
        // Two workers asked; the defaults: two HTTP threads, 16 webhook senders, two check threads.
        EXPECT_EQ(count["engined-http"], 2);
        EXPECT_EQ(count["engined-accept"], 1);
        EXPECT_EQ(count["engined-worker"], 2);
        EXPECT_EQ(count["engined-leases"], 1);
        EXPECT_EQ(count["engined-writer"], 1);
        EXPECT_EQ(count["engined-teller"], 1);
        EXPECT_EQ(count["engined-wal"], 1);
        EXPECT_EQ(count["engined-webhook"], 16);
        EXPECT_EQ(count["engined-checks"], 2);
        EXPECT_EQ(count["engined-waits"], 1);
        EXPECT_EQ(nice["engined-writer"], nice["engined-http"]);
        EXPECT_EQ(nice["engined-worker"],
                  std::min(nice["engined-writer"] + queue::WorkerPool::kWorkerNiceSteps, 19));
        EXPECT_EQ(engined.terminate(), 0);
    }
    std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace engined::testing
