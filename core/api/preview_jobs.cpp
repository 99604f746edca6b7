#include "api/preview_jobs.hpp"

#include "api/off_thread.hpp"
#include "common/api_error.hpp"
#include "common/crypto.hpp"

#include <boost/json.hpp>

namespace engined::api {

struct PreviewJobs::Job {
    std::string organization;
    std::string environment_id;
    std::string engine;
    // Written once by the pool thread, under the job's own lock: the registry may drop the job
    // while it runs.
    std::mutex mutex;
    std::string status = "running";
    boost::json::object result;
    boost::json::object error;
    std::optional<std::chrono::steady_clock::time_point> finished;
};

void PreviewJobs::expire(std::chrono::steady_clock::time_point now) {
    for (auto it = jobs_.begin(); it != jobs_.end();) {
        std::lock_guard job_lock(it->second->mutex);
        const bool expired = it->second->finished && now - *it->second->finished > kPreviewJobTtl;
        it = expired ? jobs_.erase(it) : std::next(it);
    }
}

boost::json::object PreviewJobs::start(const auth::Principal& caller, const std::string& slug,
                                       boost::json::value body) {
    auto job = std::make_shared<Job>();
    job->organization = caller.organization;
    job->environment_id = caller.environment_id;
    job->engine = slug;
    const std::string id = "preview_" + random_hex(12);
    {
        std::lock_guard lock(mutex_);
        expire(std::chrono::steady_clock::now());
        if (jobs_.size() >= kMaxPreviewJobs) {
            throw ApiError::unavailable(
                "the server already holds " + std::to_string(kMaxPreviewJobs) +
                " preview jobs; retry once one has finished and expired, or preview at most " +
                std::to_string(kSynchronousPreviewRuns) + " runs")
                .with_header("Retry-After", "60");
        }
        jobs_.emplace(id, job);
    }
    const auto admission =
        checks_.submit(caller.key_id, [&runs = runs_, job, caller, slug, body = std::move(body)] {
            boost::json::object result;
            boost::json::object error;
            try {
                result = runs.preview_config(caller, slug, body);
            } catch (const ApiError& refused) {
                boost::json::array details;
                for (const auto& detail : refused.details())
                    details.push_back({{"pointer", detail.pointer}, {"message", detail.message}});
                error = {{"code", refused.code()},
                         {"message", refused.what()},
                         {"details", std::move(details)}};
            } catch (const std::exception& failure) {
                error = {{"code", "internal"},
                         {"message", failure.what()},
                         {"details", boost::json::array{}}};
            }
            std::lock_guard job_lock(job->mutex);
            job->status = error.empty() ? "completed" : "failed";
            job->result = std::move(result);
            job->error = std::move(error);
            job->finished = std::chrono::steady_clock::now();
        });
    if (admission != BoundedExecutor::Admission::accepted) {
        std::lock_guard lock(mutex_);
        jobs_.erase(id);
    }
    refuse_unless_accepted(checks_, admission);
    return {{"job_id", id}, {"engine", slug}, {"status", "running"}};
}

boost::json::object PreviewJobs::get(const auth::Principal& caller, const std::string& slug,
                                     const std::string& job_id) {
    std::shared_ptr<Job> job;
    {
        std::lock_guard lock(mutex_);
        expire(std::chrono::steady_clock::now());
        if (const auto found = jobs_.find(job_id); found != jobs_.end()) job = found->second;
    }
    if (!job || job->organization != caller.organization ||
        job->environment_id != caller.environment_id || job->engine != slug) {
        throw ApiError::not_found("preview job '" + job_id + "' does not exist (jobs are kept " +
                                  std::to_string(kPreviewJobTtl.count()) +
                                  " minutes after they finish)");
    }
    std::lock_guard job_lock(job->mutex);
    boost::json::object answer{{"job_id", job_id}, {"engine", slug}, {"status", job->status}};
    if (job->status == "completed") answer["result"] = job->result;
    if (job->status == "failed") answer["error"] = job->error;
    return answer;
}

}  // namespace engined::api
