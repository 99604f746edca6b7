#include "runs/run_waits.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

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
    const uint64_t finishes_before_read = waits.finishes();
    waits.finished("run-0");  // told after the caller's read: the wait is looked at at once
    waits.wait(
        "run-1", 30s,
        [&](bool final) {
            if (first_look) {  // the look at once, before the finish: not terminal yet
                first_look = false;
                looked.set_value();
                return false;
            }
            if (final) return true;
            answering.set_value();
            released.wait();
            return true;
        },
        finishes_before_read);
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

// What a check saw, each call: whether it was the final one.
class CheckLog {
public:
    RunWaits::Check check(bool answer_when_not_final) {
        return [this, answer_when_not_final](bool final) {
            std::lock_guard lock(mutex_);
            calls_.push_back(final);
            changed_.notify_all();
            return final || answer_when_not_final;
        };
    }
    // The calls so far once there are `count`, or what there is after `timeout`.
    std::vector<bool> calls(std::size_t count, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout, [&] { return calls_.size() >= count; });
        return calls_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<bool> calls_;
};

// No finish was told since the caller read the run: the wait is not looked at until one is.
TEST(RunWaits, AWaitIsNotLookedAtOnceWhenNoFinishWasToldSinceTheCallersRead) {
    metrics::Registry metrics;
    RunWaits waits(RunWaitLimits{}, metrics);
    CheckLog log;
    waits.wait("run-1", 30s, log.check(true), waits.finishes());
    EXPECT_TRUE(log.calls(1, 200ms).empty()) << "looked at without a finish";
    EXPECT_EQ(waits.held(), 1u);
    waits.finished("run-1");
    EXPECT_EQ(log.calls(1, 5s), std::vector<bool>{false}) << "the finish did not wake it";
}

// A finish told after the caller's read and before its wait (the run may have finished after
// the read found it unfinished): the wait is looked at at once, not left to its deadline.
TEST(RunWaits, AFinishToldBetweenTheCallersReadAndTheWaitIsNotMissed) {
    metrics::Registry metrics;
    RunWaits waits(RunWaitLimits{}, metrics);
    CheckLog log;
    const uint64_t finishes_before_read = waits.finishes();
    waits.finished("run-1");  // no wait held yet
    waits.wait("run-1", 30s, log.check(true), finishes_before_read);
    EXPECT_EQ(log.calls(1, 5s), std::vector<bool>{false}) << "the finish was missed";
}

// During a drain a wait is answered at once on the caller's thread, with the run as it is, or,
// when the caller asks, declined: nothing runs and the caller answers otherwise.
TEST(RunWaits, DuringADrainAWaitIsAnsweredAtOnceOrDeclined) {
    metrics::Registry metrics;
    RunWaits waits(RunWaitLimits{}, metrics);
    waits.drain();
    std::vector<bool> answered;
    const auto check = [&answered](bool final) {
        answered.push_back(final);
        return true;
    };
    EXPECT_TRUE(waits.wait("run-1", 30s, check, waits.finishes()));
    EXPECT_EQ(answered, std::vector<bool>{true});
    EXPECT_FALSE(
        waits.wait("run-2", 30s, check, waits.finishes(), RunWaits::WhenDraining::decline));
    EXPECT_EQ(answered, std::vector<bool>{true}) << "a declined wait ran its check";
    EXPECT_EQ(waits.held(), 0u);
}

// A wait held without a look at once still ends at its deadline, also when it is nearer than
// every deadline held before it.
TEST(RunWaits, ANewWaitWithTheNearestDeadlineIsAnsweredAtIt) {
    metrics::Registry metrics;
    RunWaits waits(RunWaitLimits{}, metrics);
    CheckLog far;
    CheckLog near;
    waits.wait("run-1", 30s, far.check(false), waits.finishes());
    EXPECT_TRUE(far.calls(1, 100ms).empty());
    const auto asked = std::chrono::steady_clock::now();
    waits.wait("run-2", 1s, near.check(false), waits.finishes());
    EXPECT_EQ(near.calls(1, 5s), std::vector<bool>{true}) << "not answered at its deadline";
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 3s);
    EXPECT_EQ(waits.held(), 1u);
}

}  // namespace
}  // namespace engined::runs
