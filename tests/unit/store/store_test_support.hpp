// Helpers shared by the store's test suites: a temporary directory, runs and outcomes to store,
// and the asynchronous writes adapted to return their verdict.
#pragma once

#include "store/store.hpp"

#include "common/crypto.hpp"

#include <sys/resource.h>

#include <csignal>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace engined::store {

namespace fs = std::filesystem;

// A fresh directory per test, removed with everything SQLite left in it.
class TempDir {
public:
    TempDir() : path_(fs::temp_directory_path() / ("engined-store-" + random_hex(8))) {
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const fs::path& path() const { return path_; }
    std::string db() const { return (path_ / "engined.db").string(); }

private:
    fs::path path_;
};

// A full disk, for as long as it lives: the files this process writes may not grow past `bytes`
// (RLIMIT_FSIZE binds root too, unlike permission bits), and with SIGXFSZ ignored a write past
// the limit fails with EFBIG instead of killing the test.
class FileSizeLimit {
public:
    explicit FileSizeLimit(std::uintmax_t bytes)
        : previous_handler_(std::signal(SIGXFSZ, SIG_IGN)) {
        const bool read = getrlimit(RLIMIT_FSIZE, &original_) == 0;
        rlimit limited = original_;
        limited.rlim_cur = static_cast<rlim_t>(bytes);
        if (!read || setrlimit(RLIMIT_FSIZE, &limited) != 0) {
            std::signal(SIGXFSZ, previous_handler_);
            throw std::runtime_error("cannot limit the file size (RLIMIT_FSIZE)");
        }
    }
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &original_);
        std::signal(SIGXFSZ, previous_handler_);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
    rlimit original_{};
    void (*previous_handler_)(int);
};

inline NewRun make_run(std::string id, std::string organization = "org_a",
                       std::string environment = "test", std::string slug = "placement") {
    NewRun run;
    run.id = std::move(id);
    run.organization = std::move(organization);
    // The store treats an environment id as opaque: here it is the slug itself.
    run.environment_id = environment;
    run.environment = std::move(environment);
    run.engine_slug = std::move(slug);
    run.engine_type = "placement";
    run.request_json = R"({"input":{"state":"CA"}})";
    run.config_json = R"({"pack_key":"insurance-personal-lines"})";
    run.config_hash = sha256_hex(*run.config_json);
    run.api_key_id = "key_0123456789abcdef";
    run.created_at_ms = 1'700'000'000'000;
    return run;
}

// Adapts a Completion to a future: the test thread waits for the writer's verdict.
struct Outcome {
    std::promise<std::exception_ptr> promise;
    std::future<std::exception_ptr> future = promise.get_future();
    Completion completion() {
        return [this](std::exception_ptr error) { promise.set_value(error); };
    }
    std::exception_ptr get() { return future.get(); }
};

inline std::exception_ptr insert(Store& store, NewRun run) {
    Outcome outcome;
    store.insert_run(std::move(run), outcome.completion());
    return outcome.get();
}
// The lease owner a test's claims use unless they name another node.
inline constexpr const char* kTestNode = "node_test";
inline constexpr int64_t kTestLeaseMs = 30'000;

// Claims `run_id` (none: the next claimable run) for `owner` at `at`, leased for kTestLeaseMs.
inline std::optional<Claim> claim(Store& store, std::optional<std::string> run_id, int64_t at,
                                  const std::string& owner = kTestNode, int max_attempts = 3) {
    return store.claim_run(
        ClaimRequest{owner, std::move(run_id), at, at + kTestLeaseMs, max_attempts});
}
inline std::exception_ptr finish_as(Store& store, const std::string& id, const std::string& owner,
                                    RunOutcome result) {
    Outcome outcome;
    store.finish_run(id, owner, std::move(result), outcome.completion());
    return outcome.get();
}
// Ends a run as a worker of kTestNode would: a queued run is claimed first (at the runs' creation
// time, so that a run claimed by the test already keeps its lease), then the outcome is stored
// under kTestNode's lease.
inline std::exception_ptr finish(Store& store, const std::string& id, RunOutcome result) {
    claim(store, id, 1'700'000'000'000);
    return finish_as(store, id, kTestNode, std::move(result));
}

template <typename Expected>
bool holds(std::exception_ptr error) {
    if (!error) return false;
    try {
        std::rethrow_exception(error);
    } catch (const Expected&) {
        return true;
    } catch (...) {
        return false;
    }
}

inline RunOutcome completed_outcome() {
    RunOutcome outcome;
    outcome.status = RunStatus::completed;
    outcome.stage = "RANK";
    outcome.output_json = R"({"diagnostic":null})";
    outcome.results_json = R"([{"carrier":"acme"}])";
    outcome.error_details_json = "[]";
    outcome.trace_json = R"([{"stage":"VALIDATE","ms":1}])";
    outcome.completed_at_ms = 1'700'000'000'500;
    outcome.fingerprint = std::string(64, 'f');
    outcome.fingerprint_json = R"({"platform_version":"0.1.0"})";
    return outcome;
}

inline RunOutcome failed_outcome() {
    RunOutcome outcome;
    outcome.status = RunStatus::failed;
    outcome.stage = "EVALUATE";
    outcome.error_code = "lua_error";
    outcome.error_message = "scorecard.lua:3: attempt to index a nil value";
    outcome.error_details_json = R"([{"line":3}])";
    outcome.completed_at_ms = 1'700'000'000'900;
    return outcome;
}

inline std::vector<std::string> ids_of(const std::vector<Run>& runs) {
    std::vector<std::string> ids;
    for (const Run& run : runs) ids.push_back(run.id);
    return ids;
}

}  // namespace engined::store
