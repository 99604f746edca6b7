// core/store/finished_runs — who in this process hears of finished runs: the callbacks a backend's
// watch_finished_runs() registered, told by the backend after each finish_run commit of its own.
// Included only by the backends.
#pragma once

#include "store/store.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace engined::store {

class FinishedRunListeners {
public:
    // Registers `finished` until the returned watch is destroyed.
    std::unique_ptr<FinishedRunsWatch> add(RunFinished finished) {
        std::lock_guard lock(shared_->mutex);
        const uint64_t id = shared_->next_id++;
        shared_->listeners.emplace_back(id, std::move(finished));
        shared_->count.store(shared_->listeners.size(), std::memory_order_release);
        return std::make_unique<Registration>(shared_, id);
    }

    // After a commit: one atomic load when nobody listens, which is every run without a watch.
    void tell(const FinishedRun& run) const {
        if (shared_->count.load(std::memory_order_acquire) == 0) return;
        std::lock_guard lock(shared_->mutex);
        for (const auto& [id, finished] : shared_->listeners) finished(run);
    }

    // What a backend's finish_run enqueues beside its write: the write sets `added_deliveries`
    // (on its last attempt, where a group is written again), and `completion`, at the commit,
    // tells the listeners of the run with it, then calls `done`.
    struct Finish {
        std::shared_ptr<bool> added_deliveries;
        Completion completion;
    };
    Finish finish(std::string run_id, Completion done) const {
        auto added_deliveries = std::make_shared<bool>(false);
        Completion completion = [this, run_id = std::move(run_id), added_deliveries,
                                 done = std::move(done)](std::exception_ptr error) {
            if (!error) tell({run_id, *added_deliveries});
            done(error);
        };
        return {std::move(added_deliveries), std::move(completion)};
    }

private:
    struct Shared {
        std::mutex mutex;
        std::vector<std::pair<uint64_t, RunFinished>> listeners;
        std::atomic<std::size_t> count{0};
        uint64_t next_id = 0;
    };

    // Removing under the mutex: once destroyed, its callback is never called again.
    class Registration final : public FinishedRunsWatch {
    public:
        Registration(std::shared_ptr<Shared> shared, uint64_t id)
            : shared_(std::move(shared)), id_(id) {}
        ~Registration() override {
            std::lock_guard lock(shared_->mutex);
            std::erase_if(shared_->listeners,
                          [this](const auto& entry) { return entry.first == id_; });
            shared_->count.store(shared_->listeners.size(), std::memory_order_release);
        }

    private:
        std::shared_ptr<Shared> shared_;
        uint64_t id_;
    };

    std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace engined::store
