#include "runs/run_waits.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

namespace engined::runs {
namespace {

using namespace std::chrono_literals;

// A drain that begins while the waits' thread answers the last wait on its run's finish returns
// once that answer went out, instead of waiting for a wait that is no longer held.
TEST(RunWaits, ADrainDuringTheAnswerToAFinishReturnsOnceItWentOut) {
    metrics::Registry metrics;
    RunWaits waits(RunWaitLimits{}, metrics);
    std::promise<void> looked;
    std::promise<void> answering;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    bool first_look = true;
    waits.wait("run-1", 30s, [&](bool final) {
        if (first_look) {  // the look at once, before the finish: not terminal yet
            first_look = false;
            looked.set_value();
            return false;
        }
        if (final) return true;
        answering.set_value();
        released.wait();
        return true;
    });
    looked.get_future().wait();
    ASSERT_EQ(waits.held(), 1u);
    waits.finished("run-1");
    answering.get_future().wait();

    auto drained = std::async(std::launch::async, [&] { waits.drain(); });
    // The drain is under way (it waits for the held wait) when the answer completes.
    EXPECT_EQ(drained.wait_for(100ms), std::future_status::timeout);
    release.set_value();
    EXPECT_EQ(drained.wait_for(5s), std::future_status::ready) << "the drain never returned";
    EXPECT_EQ(waits.held(), 0u);
}

}  // namespace
}  // namespace engined::runs
