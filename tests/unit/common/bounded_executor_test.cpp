// The check pool's admission: a key's share and the queue, each at and past its limit; a
// finished task gives its place back; stop() runs what was accepted. No timing: tasks block on
// gates the test opens.
#include "common/bounded_executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

namespace engined {
namespace {

using Admission = BoundedExecutor::Admission;

// A task that says when it started and then waits until the test opens its gate.
struct Gate {
    std::promise<void> started;
    std::promise<void> open;
    std::shared_future<void> opened = open.get_future().share();

    std::function<void()> task() {
        return [this] {
            started.set_value();
            opened.wait();
        };
    }
};

TEST(BoundedExecutor, AKeyHoldsAtMostItsShareQueuedOrRunning) {
    BoundedExecutor pool({.threads = 1, .queue = 10, .per_key = 2});
    Gate running;
    Gate queued;
    auto started = running.started.get_future();
    ASSERT_EQ(pool.submit("key-a", running.task()), Admission::accepted);
    started.wait();
    ASSERT_EQ(pool.submit("key-a", queued.task()), Admission::accepted);  // at the limit: one running, one queued
    EXPECT_EQ(pool.submit("key-a", [] {}), Admission::key_busy);          // past it
    EXPECT_EQ(pool.submit("key-b", [] {}), Admission::accepted);          // another key has its own share

    // A finished task gives its place back.
    auto second_started = queued.started.get_future();
    running.open.set_value();
    second_started.wait();
    std::promise<void> ran;
    EXPECT_EQ(pool.submit("key-a", [&ran] { ran.set_value(); }), Admission::accepted);
    queued.open.set_value();
    ran.get_future().wait();
}

TEST(BoundedExecutor, AFullQueueRefusesUntilATaskStarts) {
    BoundedExecutor pool({.threads = 1, .queue = 2, .per_key = 100});
    Gate running;
    auto started = running.started.get_future();
    ASSERT_EQ(pool.submit("k", running.task()), Admission::accepted);
    started.wait();
    std::atomic<int> ran{0};
    EXPECT_EQ(pool.submit("k", [&ran] { ++ran; }), Admission::accepted);
    EXPECT_EQ(pool.submit("other", [&ran] { ++ran; }), Admission::accepted);  // the queue is full now
    EXPECT_EQ(pool.submit("third", [&ran] { ++ran; }), Admission::queue_full);
    EXPECT_EQ(pool.submit("k", [&ran] { ++ran; }), Admission::queue_full);
    running.open.set_value();
    pool.stop();
    EXPECT_EQ(ran.load(), 2);
}

TEST(BoundedExecutor, StopRunsEveryAcceptedTaskThenRefuses) {
    std::atomic<int> ran{0};
    BoundedExecutor pool({.threads = 2, .queue = 100, .per_key = 100});
    for (int i = 0; i < 50; ++i) ASSERT_EQ(pool.submit("k", [&ran] { ++ran; }), Admission::accepted);
    pool.stop();
    EXPECT_EQ(ran.load(), 50);
    EXPECT_EQ(pool.submit("k", [&ran] { ++ran; }), Admission::queue_full);
}

TEST(BoundedExecutor, ATaskThatThrowsLeavesThePoolServing) {
    BoundedExecutor pool({.threads = 1, .queue = 10, .per_key = 1});
    ASSERT_EQ(pool.submit("k", [] { throw std::runtime_error("boom"); }), Admission::accepted);
    std::promise<void> ran;
    // Retried until the thrown task has given the key's only place back.
    while (pool.submit("k", [&ran] { ran.set_value(); }) != Admission::accepted) std::this_thread::yield();
    ran.get_future().wait();
}

}  // namespace
}  // namespace engined
