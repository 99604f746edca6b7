#include "api/routes.hpp"

#include "api/json_response.hpp"
#include "audit/audit_listing.hpp"
#include "api/off_thread.hpp"
#include "common/api_error.hpp"
#include "common/json_text.hpp"
#include "common/time.hpp"
#include "runs/run_view.hpp"
#include "runs/run_waits.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace engined::api {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr const char* kLegacyEngineSlug = "default";
constexpr const char* kLegacyPoolEngineSlug = "entity-analysis";

std::optional<std::string> query_value(const Request& request, std::string_view name) {
    std::string value;
    if (!request.query_param(name, value)) return std::nullopt;
    return value;
}

// {profile, pool, webhook_url, ...} → the run body {input: {profile, pool, ...}, webhook_url}.
boost::json::value evaluation_as_run(const boost::json::object& job) {
    const auto* profile = job.if_contains("profile");
    if (profile == nullptr) {
        throw ApiError::invalid_request("missing field profile: the prospect to evaluate",
                                        {{"/profile", "is required"}});
    }
    if (!profile->is_object()) {
        throw ApiError::invalid_request("field profile must be an object describing the prospect",
                                        {{"/profile", "expected an object"}});
    }
    const auto* entity = profile->get_object().if_contains("entity");
    if (entity == nullptr || !entity->is_string() || entity->get_string().empty()) {
        throw ApiError::invalid_request(
            "missing field profile.entity: the prospect's legal name is required",
            {{"/profile/entity", "is required (a non-empty string)"}});
    }
    const auto* pool = job.if_contains("pool");
    if (pool == nullptr || !pool->is_string()) {
        throw ApiError::invalid_request(
            "missing field pool: name the carrier pool, e.g. \"carriers:all\"",
            {{"/pool", "is required (a string)"}});
    }
    boost::json::object input;
    boost::json::object run;
    for (const auto& [key, value] : job) {
        if (key == "webhook_url") {
            run["webhook_url"] = value;
        } else {
            input[key] = value;
        }
    }
    run["input"] = std::move(input);
    return run;
}

// The evaluation shape names a profile or a pool at the top level; the run shape has `input`.
bool is_evaluation_shape(const boost::json::value& body) {
    const auto* job = body.if_object();
    return job != nullptr &&
           (job->contains("profile") || (job->contains("pool") && !job->contains("input")));
}

// A refusal of the run built by evaluation_as_run, told in terms of the body as sent: its
// pointers lose the `/input` the evaluation never had (`/input/profile/state` is
// `/profile/state`), and what the contract refuses is a malformed request, 400 invalid_request,
// as the evaluation-era API answers it. Well-formed but unprocessable (an unknown pool) stays 422.
ApiError as_sent(const ApiError& error) {
    constexpr std::string_view kInput = "/input";
    std::vector<ErrorDetail> details;
    for (ErrorDetail detail : error.details()) {
        if (detail.pointer == kInput || detail.pointer.starts_with(std::string(kInput) + "/")) {
            detail.pointer.erase(0, kInput.size());
        }
        details.push_back(std::move(detail));
    }
    if (error.code() == "contract_violation" && !details.empty()) {
        const std::string message =
            "malformed evaluation request (" + std::to_string(details.size()) +
            " problem(s); first: " + details.front().pointer + ": " + details.front().message + ")";
        return ApiError::invalid_request(message, std::move(details));
    }
    ApiError translated(error.http_status(), error.code(), error.what(), std::move(details));
    for (const auto& [name, value] : error.headers()) translated.with_header(name, value);
    return translated;
}

// The legacy jobs API speaks the reference's four statuses: a degraded run succeeded (with the
// warning in output.degradation_reason), and the reference's polling loop stops only on
// completed or failed.
boost::json::value legacy_status(const boost::json::value& status) {
    return status == "degraded" ? boost::json::value("completed") : status;
}

// Entity-analysis candidates as the evaluation era shows them: `scores` maps each dimension to
// its level ("appetite": "L1") and `score_reasons` holds the reason behind each level.
boost::json::value evaluation_candidates(const boost::json::value& candidates) {
    const auto* list = candidates.if_array();
    if (list == nullptr) return nullptr;
    boost::json::array shown;
    shown.reserve(list->size());
    for (const auto& entry : *list) {
        boost::json::object candidate = entry.as_object();
        if (const auto* scores = candidate.if_contains("scores");
            scores != nullptr && scores->is_object()) {
            boost::json::object levels;
            boost::json::object reasons;
            for (const auto& [dimension, score] : scores->get_object()) {
                levels[dimension] = score.at("level");
                reasons[dimension] = score.at("reason");
            }
            candidate["scores"] = std::move(levels);
            candidate["score_reasons"] = std::move(reasons);
        }
        shown.push_back(std::move(candidate));
    }
    return shown;
}

}  // namespace

// The evaluation-era answer: {eval_id, status, pool_size, filtered, candidates, audit}.
boost::json::object evaluation_view(const boost::json::object& run, const std::string& audit_url) {
    const auto* output = run.at("output").if_object();
    auto from_output = [&](const char* key) {
        const auto* value = output ? output->if_contains(key) : nullptr;
        return value ? *value : boost::json::value(nullptr);
    };
    const std::string id(run.at("run_id").as_string());
    return {{"eval_id", id},
            {"status", legacy_status(run.at("status"))},
            {"pool_size", from_output("pool_size")},
            {"filtered", from_output("filtered")},
            {"candidates", run.contains("candidates") ? evaluation_candidates(run.at("candidates"))
                                                      : boost::json::value(nullptr)},
            {"audit", audit_url},
            {"error", run.at("error")},
            {"created_at", run.at("created_at")},
            {"completed_at", run.at("completed_at")}};
}

namespace {

bool is_terminal(const boost::json::object& run) {
    const auto status = store::parse_run_status(run.at("status").as_string());
    return status && store::is_terminal(*status);
}

// Holds the answer until the run is terminal, or the wait is up, or the server drains; then
// `answer(run, terminal)`, on the waits' thread (or, while the server drains and `when_draining`
// says answer, at once on this one). `finishes_before_read`: RunWaits::wait. False when the wait
// was declined (the server drains): nothing was answered.
bool answer_when_terminal(
    runs::RunService& runs, runs::RunWaits& waits, const auth::Principal& caller,
    std::string run_id, std::optional<std::string> engine_slug, std::chrono::seconds wait,
    uint64_t finishes_before_read, http::Responder responder,
    std::function<Response(const boost::json::object& run, bool terminal)> answer,
    runs::RunWaits::WhenDraining when_draining = runs::RunWaits::WhenDraining::answer) {
    auto check = [&runs, caller, run_id, engine_slug = std::move(engine_slug), responder,
                  answer = std::move(answer)](bool final) {
        try {
            const boost::json::object now = runs.get(caller, run_id, engine_slug);
            const bool terminal = is_terminal(now);
            if (!final && !terminal) return false;
            responder.respond(answer(now, terminal));
        } catch (...) {
            responder.fail(std::current_exception());
        }
        return true;
    };
    return waits.wait(std::move(run_id), wait, std::move(check), finishes_before_read,
                      when_draining);
}

// A submit may wait for its run (`?wait=<seconds>`, as a GET of the run): it is answered once the
// run is terminal, 200 with the run as a GET shows it, or when the wait is up, 202 with the run as
// it is then. A node holding its limit of waits, or draining, answers the plain 202 instead: the
// run is stored. `wait` is above 0 (no wait is no SubmitWait).
struct SubmitWait {
    runs::RunWaits& waits;
    std::chrono::seconds wait;
};

// Submits under a fresh id and answers 202 once the run is durable: the id under each of
// `id_fields`, the status, and an absolute Location under `location_prefix`. With an
// Idempotency-Key, that answer is stored in the run's own transaction, so a repeat of the request
// replays it. With `submit_wait`, see SubmitWait.
void submit_and_answer(runs::RunService& runs, const Request& request,
                       const auth::Principal& caller, const std::string& engine_slug,
                       boost::json::value body, http::Responder responder, const http::Links& links,
                       const std::string& location_prefix,
                       const std::vector<std::string>& id_fields, const std::string& id_prefix = "",
                       std::optional<SubmitWait> submit_wait = std::nullopt) {
    const std::string run_id = runs::RunService::new_run_id(id_prefix);
    boost::json::object answer_body;
    for (const std::string& field : id_fields) answer_body[field] = run_id;
    answer_body["status"] = "queued";
    Response answer = json_response(202, answer_body);
    const std::string location = links.for_request(request, location_prefix + run_id);
    answer.headers.emplace_back("Location", location);

    std::optional<store::IdempotencyRecord> record;
    std::shared_ptr<std::atomic<bool>> answered_durably;
    if (const auto& token = request.idempotency()) {
        record = store::IdempotencyRecord{
            caller.organization, caller.environment_id, token->key, token->request_hash,
            answer.status,       answer.body,           location,   now_unix_ms()};
        answered_durably = token->answered_durably;
    }
    // Before the submit: a finish told from here on is seen by the wait (RunWaits::wait).
    const uint64_t finishes_before_submit = submit_wait ? submit_wait->waits.finishes() : 0;
    runs.submit(caller, engine_slug, std::move(body), run_id, std::move(record),
                [&runs, caller, run_id, location, responder, answer = std::move(answer),
                 answered_durably, submit_wait, finishes_before_submit](std::exception_ptr error) {
                    // Runs on the store's writer thread: the router must not write from here,
                    // and nothing here reads the store (a wait's reads are the waits' thread's).
                    if (answered_durably) answered_durably->store(true);
                    if (error) return responder.fail(error);
                    if (!submit_wait) return responder.respond(answer);
                    try {
                        const bool held = answer_when_terminal(
                            runs, submit_wait->waits, caller, run_id, std::nullopt,
                            submit_wait->wait, finishes_before_submit, responder,
                            [location](const boost::json::object& run, bool terminal) {
                                Response response = json_response(terminal ? 200 : 202, run);
                                response.headers.emplace_back("Location", location);
                                return response;
                            },
                            runs::RunWaits::WhenDraining::decline);
                        if (!held) responder.respond(answer);  // the server drains
                    } catch (...) {
                        responder.respond(answer);  // no room for the wait: the run is stored
                    }
                });
}

// GET of a run, with `?wait=<seconds>` a long poll: answered at once when the run is terminal
// (or no wait was asked), else as soon as it is, or when the wait is up with the run as it is
// then; the same body either way. The wait is held by `waits`, not by an HTTP thread.
void get_run(runs::RunService& runs, runs::RunWaits& waits, const Request& request,
             const auth::Principal& caller, const std::optional<std::string>& engine_slug,
             const http::Responder& responder) {
    const std::chrono::seconds wait = waits.parse_wait(query_value(request, "wait"));
    const std::string run_id(request.path_param("run_id"));
    const uint64_t finishes_before_read = waits.finishes();
    const boost::json::object run = runs.get(caller, run_id, engine_slug);
    if (wait.count() == 0 || is_terminal(run)) return responder.respond(json_response(200, run));
    answer_when_terminal(
        runs, waits, caller, run_id, engine_slug, wait, finishes_before_read, responder,
        [](const boost::json::object& now, bool) { return json_response(200, now); });
}

}  // namespace

void register_routes(http::Router& router, runs::RunService& runs, runs::RunWaits& waits,
                     const http::JsonLimits& json_limits, BoundedExecutor& checks,
                     const http::Links& links) {
    router.add_sync(Method::get, "/health", "", [](const Request&, const auth::Principal&) {
        return Response::json(200, R"({"status":"ok"})");
    });

    // Who the key is: what the console shows beside every page (organisation, environment badge).
    router.add_sync(Method::get, "/api/v1/me", http::Router::kAnyValidKey,
                    [](const Request&, const auth::Principal& caller) {
                        boost::json::array scopes(caller.scopes.begin(), caller.scopes.end());
                        return json_response(
                            200, boost::json::object{{"key_id", caller.key_id},
                                                     {"organization", caller.organization},
                                                     {"environment", caller.environment},
                                                     {"environment_id", caller.environment_id},
                                                     {"scopes", std::move(scopes)}});
                    });

    router.add(
        Method::post, "/api/v1/engines/{slug}/runs", auth::kScopeRunsWrite,
        [&runs, &waits, &links, json_limits](const Request& request, const auth::Principal& caller,
                                             http::Responder responder) {
            const std::chrono::seconds wait = waits.parse_wait(query_value(request, "wait"));
            // The waiting answer is the run, results included: what a GET would show.
            if (wait.count() > 0 && !caller.has_scope(auth::kScopeRunsRead)) {
                throw ApiError::forbidden(
                    "waiting for the run (?wait=) answers the run, which "
                    "needs the scope '" +
                    std::string(auth::kScopeRunsRead) + "'");
            }
            http::RequestJsonArena arena;
            submit_and_answer(
                runs, request, caller, std::string(request.path_param("slug")),
                http::parse_json_body(request, json_limits, arena.storage()), std::move(responder),
                links, "/api/v1/runs/", {"run_id"}, "",
                wait.count() > 0 ? std::optional(SubmitWait{waits, wait}) : std::nullopt);
        });

    router.add_sync(
        Method::get, "/api/v1/engines/{slug}/runs", auth::kScopeRunsRead,
        [&runs](const Request& request, const auth::Principal& caller) {
            runs::ListParams params{query_value(request, "status"), query_value(request, "cursor"),
                                    query_value(request, "limit"),
                                    query_value(request, "engine_version")};
            return json_response(
                200, runs.list(caller, std::string(request.path_param("slug")), params));
        });

    router.add(Method::get, "/api/v1/engines/{slug}/runs/{run_id}", auth::kScopeRunsRead,
               [&runs, &waits](const Request& request, const auth::Principal& caller,
                               http::Responder responder) {
                   get_run(runs, waits, request, caller, std::string(request.path_param("slug")),
                           responder);
               });

    router.add(Method::get, "/api/v1/runs/{run_id}", auth::kScopeRunsRead,
               [&runs, &waits](const Request& request, const auth::Principal& caller,
                               http::Responder responder) {
                   get_run(runs, waits, request, caller, std::nullopt, responder);
               });

    // The audit record of a run; /traces/{id} is the URL the evaluation-era `audit` field names.
    for (const char* pattern : {"/api/v1/runs/{run_id}/defensibility-packet", "/traces/{run_id}"}) {
        router.add_sync(Method::get, pattern, auth::kScopeRunsRead,
                        [&runs](const Request& request, const auth::Principal& caller) {
                            return json_response(
                                200, runs.defensibility_packet(
                                         caller, std::string(request.path_param("run_id"))));
                        });
    }

    // Executes the run again and stores nothing: a read, but one that runs the engine, so on the
    // check pool.
    router.add(Method::post, "/api/v1/runs/{run_id}/replay", auth::kScopeRunsRead,
               [&runs, &checks](const Request& request, const auth::Principal& caller,
                                http::Responder responder) {
                   answer_off_thread(
                       checks, caller, responder,
                       [&runs, caller, run_id = std::string(request.path_param("run_id"))] {
                           return json_response(200, runs.replay(caller, run_id));
                       });
               });

    router.add_sync(Method::get, "/api/v1/pools", auth::kScopeRunsRead,
                    [&runs](const Request&, const auth::Principal& caller) {
                        return json_response(200, runs.list_pools(caller));
                    });

    // The evaluation-era jobs API: a body of the older {profile, pool} shape runs the
    // entity-analysis engine under an `eval_` id; anything else runs the `default` engine.
    router.add(Method::post, "/api/v1/jobs", auth::kScopeRunsWrite,
               [&runs, &links, json_limits](const Request& request, const auth::Principal& caller,
                                            http::Responder responder) {
                   http::RequestJsonArena arena;
                   boost::json::value body =
                       http::parse_json_body(request, json_limits, arena.storage());
                   if (is_evaluation_shape(body)) {
                       try {
                           submit_and_answer(runs, request, caller, kLegacyPoolEngineSlug,
                                             evaluation_as_run(body.get_object()), responder, links,
                                             "/api/v1/jobs/", {"eval_id"},
                                             std::string(runs::kEvaluationIdPrefix));
                       } catch (const ApiError& error) {
                           throw as_sent(error);
                       }
                       return;
                   }
                   submit_and_answer(runs, request, caller, kLegacyEngineSlug, std::move(body),
                                     responder, links, "/api/v1/jobs/", {"run_id", "job_id"});
               });

    router.add_sync(Method::get, "/api/v1/jobs/{job_id}", auth::kScopeRunsRead,
                    [&runs, &links](const Request& request, const auth::Principal& caller) {
                        const std::string id(request.path_param("job_id"));
                        boost::json::object run = runs.get(caller, id, std::nullopt);
                        if (runs::is_evaluation(id)) {
                            return json_response(
                                200,
                                evaluation_view(run, links.for_request(request, "/traces/" + id)));
                        }
                        run["job_id"] = run["run_id"];
                        run["status"] = legacy_status(run["status"]);
                        return json_response(200, run);
                    });
}

void register_audit_routes(http::Router& router, const store::Store& store) {
    router.add_sync(Method::get, "/api/v1/audit-log", auth::kScopeEnginesAdmin,
                    [&store](const Request& request, const auth::Principal& caller) {
                        return json_response(200,
                                             audit::list_audit_log(store, caller.organization,
                                                                   query_value(request, "cursor"),
                                                                   query_value(request, "limit")));
                    });
}

}  // namespace engined::api
