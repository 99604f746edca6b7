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
    ASSERT_EQ(pool.submit("key-a", queued.task()),
              Admission::accepted);  // at the limit: one running, one queued
    EXPECT_EQ(pool.submit("key-a", [] {}), Admission::key_busy);  // past it
    EXPECT_EQ(pool.submit("key-b", [] {}), Admission::accepted);  // another key has its own share

    // A finished task gives its place back.
    auto second_started = queued.started.get_future();
    running.open.set_value();
    second_started.wait();
    std::promise<void> ran;
    EXPECT_EQ(pool.submit("key-a", [&ran] { ran.set_value(); }), Admission::accepted);
    queued.open.set_value();
    ran.get_future().wait();
}

// A caller answered from after_release submits its next task at once: the key's place is free.
TEST(BoundedExecutor, AfterReleaseRunsOnceTheKeysPlaceIsGivenBack) {
    BoundedExecutor pool({.threads = 1, .queue = 10, .per_key = 1});
    std::promise<Admission> next;
    std::promise<void> ran;
    ASSERT_EQ(pool.submit(
                  "key-a", [] {},
                  [&] { next.set_value(pool.submit("key-a", [&ran] { ran.set_value(); })); }),
              Admission::accepted);
    EXPECT_EQ(next.get_future().get(), Admission::accepted);
    ran.get_future().wait();
}

TEST(BoundedExecutor, AFullQueueRefusesUntilATaskStarts) {
    BoundedExecutor pool({.threads = 1, .queue = 2, .per_key = 100});
    Gate running;
    auto started = running.started.get_future();
    ASSERT_EQ(pool.submit("k", running.task()), Admission::accepted);
    started.wait();
    std::atomic<int> ran{0};
    std::promise<void> both_ran;
    EXPECT_EQ(pool.submit("k", [&ran] { ++ran; }), Admission::accepted);
    EXPECT_EQ(pool.submit("other",
                          [&] {
                              if (++ran == 2) both_ran.set_value();
                          }),
              Admission::accepted);  // full now
    EXPECT_EQ(pool.submit("third", [&ran] { ++ran; }), Admission::queue_full);
    EXPECT_EQ(pool.submit("k", [&ran] { ++ran; }), Admission::queue_full);
    running.open.set_value();
    both_ran.get_future().wait();
    EXPECT_EQ(ran.load(), 2);
}

TEST(BoundedExecutor, StopFinishesRunningTasksDropsWaitingOnesThenRefuses) {
    BoundedExecutor pool({.threads = 1, .queue = 10, .per_key = 10});
    Gate running;
    auto started = running.started.get_future();
    ASSERT_EQ(pool.submit("k", running.task()), Admission::accepted);
    started.wait();
    std::atomic<bool> finished{false};
    auto waiting_task_released = std::make_shared<int>(0);
    std::weak_ptr<int> waiting_task(waiting_task_released);
    ASSERT_EQ(
        pool.submit("k", [held = std::move(waiting_task_released), &finished] { finished = true; }),
        Admission::accepted);
    std::thread stopper([&pool] { pool.stop(); });
    while (!waiting_task.expired())
        std::this_thread::yield();  // dropped before the running task ends
    running.open.set_value();
    stopper.join();
    EXPECT_FALSE(finished.load());
    EXPECT_EQ(pool.submit("k", [] {}), Admission::queue_full);
}

TEST(BoundedExecutor, ATaskThatThrowsLeavesThePoolServing) {
    BoundedExecutor pool({.threads = 1, .queue = 10, .per_key = 1});
    ASSERT_EQ(pool.submit("k", [] { throw std::runtime_error("boom"); }), Admission::accepted);
    std::promise<void> ran;
    // Retried until the thrown task has given the key's only place back.
    while (pool.submit("k", [&ran] { ran.set_value(); }) != Admission::accepted)
        std::this_thread::yield();
    ran.get_future().wait();
}

}  // namespace
}  // namespace engined
