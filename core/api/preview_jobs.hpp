// Configuration previews too large to answer in one request (more than 200 runs) as jobs to
// poll. A preview is read-only and recomputable, so its jobs live in memory only: at most
// kMaxPreviewJobs at once, each kept kPreviewJobTtl after it finished, visible only to the
// organisation and environment that started it. They run on the check pool.
#pragma once

#include "auth/principal.hpp"
#include "common/bounded_executor.hpp"
#include "runs/config_preview.hpp"
#include "runs/run_service.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace engined::api {

// Runs answered synchronously; a larger sample becomes a job.
inline constexpr int kSynchronousPreviewRuns = 200;
inline constexpr std::size_t kMaxPreviewJobs = 16;
inline constexpr std::chrono::minutes kPreviewJobTtl{10};

class PreviewJobs {
public:
    PreviewJobs(const runs::RunService& runs, BoundedExecutor& checks)
        : runs_(runs), checks_(checks) {}

    // Queues the preview; {"job_id", "status": "running"}. ApiError 503 while kMaxPreviewJobs
    // jobs are held, and 503 / 429 when the check pool refuses (api/off_thread.hpp).
    boost::json::object start(const auth::Principal& caller, const std::string& slug,
                              boost::json::value body);

    // {"job_id", "engine", "status": running | completed | failed, "result" (the preview) |
    // "error" ({code, message, details})}. ApiError 404 for an unknown, expired or foreign job.
    boost::json::object get(const auth::Principal& caller, const std::string& slug,
                            const std::string& job_id);

private:
    struct Job;
    // Drops the jobs that finished more than kPreviewJobTtl ago; the caller holds mutex_.
    void expire(std::chrono::steady_clock::time_point now);

    const runs::RunService& runs_;
    BoundedExecutor& checks_;
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Job>> jobs_;
};

}  // namespace engined::api
