#include "runs/run_service.hpp"

#include "common/api_error.hpp"
#include "common/crypto.hpp"
#include "common/json_text.hpp"
#include "common/paging.hpp"
#include "common/time.hpp"
#include "net/url.hpp"
#include "runs/defensibility.hpp"
#include "runs/fingerprint.hpp"
#include "runs/config_preview.hpp"
#include "runs/replay.hpp"
#include "runs/run_view.hpp"
#include "versions/pin.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace engined::runs {

// A submit between its checks and its answer.
struct RunService::Submission {
    store::NewRun run;
    store::Run handed_over;  // what the workers get: store::queued_run(run) and its fingerprint
    Accepted answer;
};

namespace {

constexpr int kDefaultPageSize = 20;
constexpr int kMaxPageSize = 100;

// The pin as sent; its grammar and resolution are the engine service's.
std::optional<std::string> read_pin(const boost::json::object& body) {
    const auto* pin = body.if_contains("engine_version");
    if (pin == nullptr || pin->is_null()) return std::nullopt;
    if (!pin->is_string()) {
        throw ApiError::invalid_request("engine_version must be a string matching " +
                                            std::string(versions::kPinGrammar) +
                                            ", e.g. \"1.3\" or \"1.x\"",
                                        {{"/engine_version", "expected a string"}});
    }
    return std::string(pin->get_string());
}

// The URL's form is checked here (https in live); where it resolves is checked at each delivery.
std::optional<std::string> read_webhook_url(const boost::json::object& body,
                                            const std::string& environment) {
    const auto* url = body.if_contains("webhook_url");
    if (url == nullptr || url->is_null()) return std::nullopt;
    if (!url->is_string()) {
        throw ApiError::invalid_request("webhook_url must be an http(s) URL",
                                        {{"/webhook_url", "expected an http(s) URL"}});
    }
    if (const auto problem = net::check_webhook_url(url->get_string(), environment == "live")) {
        throw ApiError::invalid_request("webhook_url is not acceptable: " + *problem,
                                        {{"/webhook_url", *problem}});
    }
    return std::string(url->get_string());
}

}  // namespace

RunService::RunService(store::Store& store, const engines::EngineService& engines,
                       const RunExecutor& executor, Workers workers, SubmitLimits limits,
                       RunMetrics& metrics)
    : store_(store),
      engines_(engines),
      executor_(executor),
      workers_(std::move(workers)),
      limits_(limits),
      metrics_(metrics) {}

std::string RunService::new_run_id(const std::string& prefix) {
    return prefix + uuid_v7(static_cast<std::uint64_t>(now_unix_ms()));
}

void RunService::submit(const auth::Principal& caller, const std::string& engine_slug,
                        boost::json::value body, const std::string& run_id,
                        std::optional<store::IdempotencyRecord> idempotency, Accepted accepted) {
    // Refused before any work: a full queue would only grow while the workers catch up.
    if (const std::size_t depth = workers_.queue_depth(); depth >= limits_.max_queue_depth) {
        throw ApiError::unavailable("the run queue is full (" + std::to_string(depth) +
                                    " runs waiting for a worker); retry shortly")
            .with_header("Retry-After", "5");
    }
    if (!body.is_object())
        throw ApiError::invalid_request("the request body must be a JSON object");
    boost::json::object& fields = body.get_object();
    auto* input = fields.if_contains("input");
    if (input == nullptr) {
        throw ApiError::invalid_request("missing field 'input': a run needs an input object",
                                        {{"/input", "is required"}});
    }
    if (!input->is_object()) {
        throw ApiError::invalid_request("field 'input' must be an object",
                                        {{"/input", "expected an object"}});
    }
    const auto pin = read_pin(fields);
    // Resolved once, here: the run keeps this version whatever is published while it waits.
    const engines::ResolvedEngine target =
        engines_.resolve_for_run(caller, engine_slug, pin, run_id);
    // Signed at delivery with the environment's signing secret, created then if need be.
    const auto webhook_url = read_webhook_url(fields, caller.environment);

    // The contract covers what the engine reads: the input and, when given, the offerings. Both
    // move from the body (same storage: no copy).
    boost::json::value stored_request(boost::json::object_kind, body.storage());
    boost::json::object& document = stored_request.get_object();
    document.emplace("input", std::move(*input));
    if (auto* offerings = fields.if_contains("offerings")) {
        if (offerings->is_array() && offerings->get_array().size() > limits_.max_offerings) {
            const std::string limit = std::to_string(limits_.max_offerings);
            throw ApiError::contract_violation(
                "a run may carry at most " + limit + " offerings; this one has " +
                    std::to_string(offerings->get_array().size()),
                {{"/offerings", "at most " + limit + " items allowed"}});
        }
        document.emplace("offerings", std::move(*offerings));
    }
    auto violations = target.request_contract->validate(stored_request);
    if (!violations.empty()) {
        // Built before the details are moved into the error: argument order is unspecified.
        const std::string message = "the request does not match the contract of engine '" +
                                    engine_slug + "' (" + std::to_string(violations.size()) +
                                    " problem(s); first: " + violations.front().pointer + ": " +
                                    violations.front().message + ")";
        throw ApiError::contract_violation(message, std::move(violations));
    }

    if (const auto pool = resolve_pool(caller, document.at("input").get_object()))
        document["pool"] = *pool;

    store::NewRun run;
    run.id = run_id;
    run.idempotency = std::move(idempotency);
    run.organization = caller.organization;
    run.environment = caller.environment;
    run.environment_id = caller.environment_id;
    run.engine_slug = target.engine.slug;
    run.engine_type = target.engine.engine_type;
    run.engine_version = target.version;
    run.engine_version_pin = target.pin;
    run.engine_version_pin_source = target.pin_source;
    run.engine_version_rollout = target.rollout_share;
    run.request_json = boost::json::serialize(stored_request);
    // Resolved from the store, so stored there already.
    run.config_hash = target.config_hash;
    run.webhook_url = webhook_url;
    run.api_key_id = caller.key_id;
    run.created_at_ms = now_unix_ms();
    // Held by this node from its insert on: its workers execute it without another write first.
    run.held_by = workers_.hold();
    store::Run handed_over = store::queued_run(run);
    handed_over.fingerprint_inputs = store::FingerprintInputs{
        sha256_hex(canonical_json(stored_request)),
        version_content_hash(target.release_content_hash, target.config_hash)};
    const bool alone = unanswered_submits_.fetch_add(1, std::memory_order_acq_rel) == 0;
    auto submission = std::make_shared<Submission>(
        Submission{std::move(run), std::move(handed_over),
                   [this, accepted = std::move(accepted)](std::exception_ptr error) {
                       unanswered_submits_.fetch_sub(1, std::memory_order_acq_rel);
                       accepted(error);
                   }});
    if (alone && workers_.execute_if_idle && submission->run.held_by &&
        workers_.execute_if_idle(
            queue::WorkerPool::IdleRun{submission->handed_over, kIdleExecutionDeadline,
                                       [this, submission](store::RunOutcome outcome) {
                                           store_finished(submission, std::move(outcome));
                                       },
                                       [this, submission](std::function<void(bool)> told_pool) {
                                           store_queued(submission, std::move(told_pool));
                                       }})) {
        return;
    }
    store_queued(std::move(submission), nullptr);
}

void RunService::store_queued(std::shared_ptr<Submission> submission,
                              std::function<void(bool inserted)> told_pool) {
    record(
        submission,
        [this, &submission](store::Completion done) {
            store_.insert_run(std::move(submission->run), std::move(done));
        },
        [this, submission, told_pool = std::move(told_pool)](bool inserted) {
            if (told_pool) {
                told_pool(inserted);
            } else if (inserted) {
                workers_.enqueue(std::move(submission->handed_over));
            }
        });
}

void RunService::store_finished(std::shared_ptr<Submission> submission, store::RunOutcome outcome) {
    record(
        submission,
        [this, &submission, &outcome](store::Completion done) {
            store_.insert_finished_run(std::move(submission->run), std::move(outcome),
                                       std::move(done));
        },
        nullptr);
}

void RunService::record(const std::shared_ptr<Submission>& submission,
                        const std::function<void(store::Completion)>& write,
                        std::function<void(bool stored)> then) {
    auto stored = [this, submission, then = std::move(then)](std::exception_ptr error) {
        if (!error) {
            const store::Run& run = submission->handed_over;
            metrics_.submitted(run.engine_slug, run.engine_version, run.engine_version_rollout);
        }
        if (then) then(!error);
        submission->answer(error);
    };
    try {
        write(stored);
    } catch (...) {
        stored(std::current_exception());
    }
}

std::optional<boost::json::object> RunService::resolve_pool(
    const auth::Principal& caller, const boost::json::object& input) const {
    const auto* name = input.if_contains("pool");
    if (name == nullptr || !name->is_string()) return std::nullopt;
    const std::string pool_name(name->get_string());
    const auto pool = store_.pool_snapshot(caller.organization, pool_name);
    if (!pool) {
        throw ApiError(422, "unknown_pool",
                       "pool '" + pool_name +
                           "' does not exist for this organisation; import it with "
                           "`enginectl pools import` (GET /api/v1/pools lists the pools)",
                       {{"/input/pool", "unknown pool '" + pool_name + "'"}});
    }
    return boost::json::object{
        {"name", pool->name}, {"snapshot", pool->snapshot}, {"size", pool->carrier_count}};
}

boost::json::object RunService::list_pools(const auth::Principal& caller) const {
    boost::json::array data;
    for (const store::PoolSummary& pool : store_.list_pools(caller.organization)) {
        data.push_back({{"name", pool.name},
                        {"carrier_count", pool.carrier_count},
                        {"snapshot", pool.snapshot},
                        {"source", pool.source},
                        {"imported_at", format_rfc3339_ms(pool.imported_at_ms)}});
    }
    return {{"data", std::move(data)}};
}

store::Run RunService::visible_run(const auth::Principal& caller, const std::string& run_id,
                                   const std::optional<std::string>& engine_slug) const {
    auto run = store_.get_run(run_id);
    // Another organisation's or environment's run is indistinguishable from a missing one.
    if (!run || run->organization != caller.organization ||
        run->environment_id != caller.environment_id ||
        (engine_slug && run->engine_slug != *engine_slug)) {
        throw ApiError::not_found("run '" + run_id + "' does not exist");
    }
    return std::move(*run);
}

boost::json::object RunService::get(const auth::Principal& caller, const std::string& run_id,
                                    const std::optional<std::string>& engine_slug) const {
    return run_to_json(visible_run(caller, run_id, engine_slug));
}

boost::json::object RunService::defensibility_packet(const auth::Principal& caller,
                                                     const std::string& run_id) const {
    const store::Run run = visible_run(caller, run_id, std::nullopt);
    return runs::defensibility_packet(run, pinned_release_content_hash(store_, run));
}

boost::json::object RunService::replay(const auth::Principal& caller,
                                       const std::string& run_id) const {
    const store::Run run = visible_run(caller, run_id, std::nullopt);
    if (!store::is_terminal(run.status)) {
        throw ApiError(409, "run_not_terminal",
                       "run '" + run_id + "' is still " +
                           std::string(store::to_string(run.status)) +
                           "; only a completed, degraded or failed run can be replayed");
    }
    return replay_report(run, executor_.execute(run));
}

namespace {

// The preview's sample, read from its body.
struct PreviewSample {
    int runs = kDefaultPreviewRuns;
    std::optional<std::string> engine_version;
    std::optional<int64_t> since_ms;
    std::optional<int64_t> until_ms;
};

std::optional<int64_t> preview_time(const boost::json::object& body, const char* name) {
    const auto* value = body.if_contains(name);
    if (value == nullptr || value->is_null()) return std::nullopt;
    const auto parsed = value->is_string() ? parse_rfc3339_ms(value->get_string()) : std::nullopt;
    if (!parsed) {
        throw ApiError::invalid_request(
            std::string(name) + " must be an RFC 3339 time such as \"2026-11-23T15:18:34Z\"",
            {{std::string("/") + name, "expected an RFC 3339 time"}});
    }
    return parsed;
}

PreviewSample preview_sample(const boost::json::object& body) {
    PreviewSample sample;
    if (const auto* runs = body.if_contains("runs"); runs && !runs->is_null()) {
        if (!runs->is_int64() || runs->get_int64() < 1 || runs->get_int64() > kMaxPreviewRuns) {
            throw ApiError::invalid_request(
                "runs must be an integer from 1 to " + std::to_string(kMaxPreviewRuns),
                {{"/runs", "expected 1-" + std::to_string(kMaxPreviewRuns)}});
        }
        sample.runs = static_cast<int>(runs->get_int64());
    }
    if (const auto* version = body.if_contains("engine_version"); version && !version->is_null()) {
        const auto pin =
            version->is_string() ? versions::parse_pin(version->get_string()) : std::nullopt;
        if (!pin || !pin->minor) {
            throw ApiError::invalid_request(
                "engine_version must be an exact version such as \"1.2\": the sample is its runs",
                {{"/engine_version", "expected <major>.<minor>"}});
        }
        sample.engine_version = std::string(version->get_string());
    }
    sample.since_ms = preview_time(body, "since");
    sample.until_ms = preview_time(body, "until");
    return sample;
}

}  // namespace

boost::json::object RunService::preview_config(const auth::Principal& caller,
                                               const std::string& engine_slug,
                                               const boost::json::value& body) const {
    if (!body.is_object())
        throw ApiError::invalid_request("the request body must be a JSON object");
    const auto& fields = body.get_object();
    const PreviewSample sample = preview_sample(fields);
    boost::json::object current = engines_.get_config(caller, engine_slug);
    const auto* candidate = fields.if_contains("config");
    std::string config_json = canonical_json(current.at("config"));
    if (candidate != nullptr && !candidate->is_null()) {
        auto errors =
            engines_.check_config(std::string(current.at("engine_type").as_string()), *candidate);
        if (!errors.empty()) {
            const std::string message =
                "the candidate configuration is not usable (" + std::to_string(errors.size()) +
                " problem(s)); POST it to .../config/validate for the full list";
            throw ApiError(422, "invalid_config", message, std::move(errors));
        }
        config_json = canonical_json(*candidate);
    }
    store::RunPageQuery query;
    query.organization = caller.organization;
    query.environment_id = caller.environment_id;
    query.engine_slug = engine_slug;
    query.engine_version = sample.engine_version;
    query.limit = kMaxPageSize;
    std::vector<boost::json::object> compared;
    // Newest first, page by page, until the sample is full or the window is passed.
    while (compared.size() < static_cast<std::size_t>(sample.runs)) {
        const store::RunPage page = store_.list_runs(query);
        for (const store::Run& run : page.runs) {
            if (sample.since_ms && run.created_at_ms < *sample.since_ms) break;
            if (!store::is_terminal(run.status) ||
                (sample.until_ms && run.created_at_ms > *sample.until_ms))
                continue;
            compared.push_back(compare_run(run, executor_.execute_with_config(run, config_json)));
            if (compared.size() == static_cast<std::size_t>(sample.runs)) break;
        }
        const bool window_passed = sample.since_ms && !page.runs.empty() &&
                                   page.runs.back().created_at_ms < *sample.since_ms;
        if (!page.next_before_seq || window_passed) break;
        query.before_seq = page.next_before_seq;
    }
    boost::json::object sampled{{"runs", sample.runs}};
    sampled["engine_version"] =
        sample.engine_version ? boost::json::value(*sample.engine_version) : nullptr;
    sampled["since"] =
        sample.since_ms ? boost::json::value(format_rfc3339_ms(*sample.since_ms)) : nullptr;
    sampled["until"] =
        sample.until_ms ? boost::json::value(format_rfc3339_ms(*sample.until_ms)) : nullptr;
    boost::json::array data;
    for (auto& run : compared) data.push_back(run);
    return {{"engine", engine_slug},
            {"config_hash", sha256_hex(config_json)},
            {"sample", std::move(sampled)},
            {"summary", summarize_preview(compared)},
            {"data", std::move(data)}};
}

boost::json::object RunService::list(const auth::Principal& caller, const std::string& engine_slug,
                                     const ListParams& params) const {
    engines_.get(caller, engine_slug);
    store::RunPageQuery query;
    query.organization = caller.organization;
    query.environment_id = caller.environment_id;
    query.engine_slug = engine_slug;
    query.limit = parse_page_limit(params.limit, kDefaultPageSize, kMaxPageSize);
    if (params.status) {
        query.status = store::parse_run_status(*params.status);
        if (!query.status) {
            throw ApiError::invalid_request(
                "status must be one of queued, processing, completed, degraded, failed",
                {{"status", "got '" + *params.status + "'"}});
        }
    }
    if (params.engine_version) {
        const auto version = versions::parse_pin(*params.engine_version);
        if (!version || !version->minor) {
            throw ApiError::invalid_request(
                "engine_version must be an exact version such as \"1.2\"",
                {{"engine_version", "got '" + *params.engine_version + "'"}});
        }
        query.engine_version = *params.engine_version;
    }
    if (params.cursor) query.before_seq = decode_page_cursor(*params.cursor);
    const store::RunPage page = store_.list_runs(query);
    boost::json::array data;
    for (const store::Run& run : page.runs) data.push_back(run_to_json(run));
    return {{"data", std::move(data)},
            {"has_more", page.next_before_seq.has_value()},
            {"next_cursor", page.next_before_seq
                                ? boost::json::value(encode_page_cursor(*page.next_before_seq))
                                : boost::json::value(nullptr)}};
}

}  // namespace engined::runs
