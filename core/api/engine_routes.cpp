// Routes of the operator's lifecycle: engines, configuration, versions and contracts (SPEC §5).
#include "api/routes.hpp"

#include "api/json_response.hpp"
#include "api/off_thread.hpp"
#include "api/openapi.hpp"
#include "api/preview_jobs.hpp"
#include "common/api_error.hpp"
#include "common/json_text.hpp"
#include "engines/contract_guide.hpp"

#include <boost/json.hpp>

namespace engined::api {
namespace {

using http::Method;
using http::Request;
using http::Response;

std::string slug_of(const Request& request) {
    return std::string(request.path_param("slug"));
}

std::string version_of(const Request& request) {
    return std::string(request.path_param("version"));
}

std::optional<std::string> pin_of(const Request& request) {
    std::string pin;
    if (!request.query_param("engine_version", pin)) return std::nullopt;
    return pin;
}

// ?full=1 asks for the whole contract guide; absent or 0, the compact one.
engines::GuideDetail guide_detail_of(const Request& request) {
    std::string full;
    if (!request.query_param("full", full) || full == "0") return engines::GuideDetail::compact;
    if (full == "1") return engines::GuideDetail::full;
    throw ApiError::invalid_request(
        "query parameter full must be 1 (the whole guide) or 0 (the compact one)",
        {{"full", "expected 1 or 0"}});
}

// Publish's gate: with `max_top1_change` (a share from 0 to 1) and without `force: true`, the
// current configuration is previewed on the default sample first and publishing is refused
// when more of its runs would change their top-1 solution than that share.
std::function<void()> preview_gate(const runs::RunService& runs, const auth::Principal& caller,
                                   const std::string& slug, const boost::json::value& body) {
    const auto* fields = body.if_object();
    const auto* limit = fields ? fields->if_contains("max_top1_change") : nullptr;
    if (limit == nullptr || limit->is_null()) return {};
    const auto* force = fields->if_contains("force");
    if (force != nullptr && !force->is_null() && !force->is_bool()) {
        throw ApiError::invalid_request("force must be true or false",
                                        {{"/force", "expected a boolean"}});
    }
    if (!limit->is_number() || limit->to_number<double>() < 0.0 ||
        limit->to_number<double>() > 1.0) {
        throw ApiError::invalid_request("max_top1_change must be a share from 0 to 1, e.g. 0.05",
                                        {{"/max_top1_change", "expected a number from 0 to 1"}});
    }
    if (force != nullptr && force->is_bool() && force->get_bool()) return {};
    return [&runs, caller, slug, max = limit->to_number<double>()] {
        const boost::json::object preview =
            runs.preview_config(caller, slug, boost::json::object{});
        const auto& summary = preview.at("summary").as_object();
        const double share = summary.at("top1_change_share").to_number<double>();
        if (share <= max) return;
        const std::string runs_count = std::to_string(summary.at("runs").to_number<int64_t>());
        const std::string changed = std::to_string(summary.at("top1_changed").to_number<int64_t>());
        throw ApiError(422, "preview_gate_exceeded",
                       "publishing would change the top-1 solution of " + changed +
                           " of the last " + runs_count + " runs (share " + std::to_string(share) +
                           "), more than max_top1_change " + std::to_string(max) +
                           "; review POST .../config/preview, or publish with \"force\": true",
                       {{"/max_top1_change", "previewed share " + std::to_string(share)}});
    };
}

}  // namespace

void register_engine_routes(http::Router& router, engines::EngineService& engines,
                            const runs::RunService& runs, const http::JsonLimits& json_limits,
                            const std::string& server_version, BoundedExecutor& checks,
                            const http::Links& links) {
    const std::string admin = auth::kScopeEnginesAdmin;
    const std::string read = auth::kScopeRunsRead;

    router.add_sync(
        Method::get, "/api/v1/engines", read,
        [&engines](const Request&, const auth::Principal& caller) {
            return json_response(200, boost::json::object{{"data", engines.list(caller)}});
        });
    router.add_sync(Method::post, "/api/v1/engines", admin,
                    [&engines, json_limits](const Request& request, const auth::Principal& caller) {
                        return json_response(
                            201,
                            engines.create(caller, http::parse_json_body(request, json_limits)));
                    });
    router.add_sync(Method::get, "/api/v1/engines/{slug}", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.get(caller, slug_of(request)));
                    });
    router.add_sync(Method::post, "/api/v1/engines/{slug}/archive", admin,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.archive(caller, slug_of(request)));
                    });
    router.add_sync(Method::post, "/api/v1/engines/{slug}/unarchive", admin,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.unarchive(caller, slug_of(request)));
                    });

    router.add_sync(
        Method::get, "/api/v1/engines/{slug}/config", read,
        [&engines](const Request& request, const auth::Principal& caller) {
            const boost::json::object config = engines.get_config(caller, slug_of(request));
            Response response = json_response(200, config);
            // The configuration hash is its entity tag: PUT with If-Match changes only what was read.
            response.headers.emplace_back(
                "ETag", engines::config_etag(std::string(config.at("config_hash").as_string())));
            return response;
        });
    // The checks of a configuration compile its schemas and run its Lua, and publishing compares
    // schemas: all on the check pool. Bodies are parsed here, within the JSON limits.
    router.add(
        Method::put, "/api/v1/engines/{slug}/config", admin,
        [&engines, &checks, json_limits](const Request& request, const auth::Principal& caller,
                                         http::Responder responder) {
            const http::HeaderField if_match = request.header_field("If-Match");
            answer_off_thread(
                checks, caller, responder,
                [&engines, caller, slug = slug_of(request),
                 body = http::parse_json_body(request, json_limits),
                 if_match = if_match.count > 0 ? std::optional<std::string>(if_match.value)
                                               : std::nullopt] {
                    return json_response(200, engines.put_config(caller, slug, body, if_match));
                });
        });
    router.add(
        Method::post, "/api/v1/engines/{slug}/config/validate", admin,
        [&engines, &checks, json_limits](const Request& request, const auth::Principal& caller,
                                         http::Responder responder) {
            // A body that is not even JSON is a verdict too, not an error.
            boost::json::value body;
            try {
                body = http::parse_json_body(request, json_limits);
            } catch (const ApiError& error) {
                return responder.respond(json_response(
                    200,
                    boost::json::object{{"valid", false},
                                        {"errors", {{{"path", ""}, {"message", error.what()}}}}}));
            }
            answer_off_thread(checks, caller, responder,
                              [&engines, caller, slug = slug_of(request), body = std::move(body)] {
                                  return json_response(200,
                                                       engines.validate_config(caller, slug, body));
                              });
        });

    // Re-executes recorded runs under a candidate: reads only, but runs the engine, so on the
    // check pool; more than 200 runs become a job to poll.
    auto preview_jobs = std::make_shared<PreviewJobs>(runs, checks);
    router.add(
        Method::post, "/api/v1/engines/{slug}/config/preview", admin,
        [&runs, &checks, &links, json_limits, preview_jobs](
            const Request& request, const auth::Principal& caller, http::Responder responder) {
            boost::json::value body = request.body().empty()
                                          ? boost::json::value(boost::json::object{})
                                          : http::parse_json_body(request, json_limits);
            const auto* runs_asked =
                body.is_object() ? body.get_object().if_contains("runs") : nullptr;
            if (runs_asked != nullptr && runs_asked->is_int64() &&
                runs_asked->get_int64() > kSynchronousPreviewRuns &&
                runs_asked->get_int64() <= engined::runs::kMaxPreviewRuns) {
                const std::string slug = slug_of(request);
                const boost::json::object job = preview_jobs->start(caller, slug, std::move(body));
                Response accepted = json_response(202, job);
                accepted.headers.emplace_back(
                    "Location",
                    links.for_request(request, "/api/v1/engines/" + slug + "/config/preview/" +
                                                   std::string(job.at("job_id").as_string())));
                return responder.respond(accepted);
            }
            answer_off_thread(checks, caller, responder,
                              [&runs, caller, slug = slug_of(request), body = std::move(body)] {
                                  return json_response(200,
                                                       runs.preview_config(caller, slug, body));
                              });
        });

    router.add_sync(Method::get, "/api/v1/engines/{slug}/config/preview/{job_id}", admin,
                    [preview_jobs](const Request& request, const auth::Principal& caller) {
                        return json_response(
                            200, preview_jobs->get(caller, slug_of(request),
                                                   std::string(request.path_param("job_id"))));
                    });

    router.add(
        Method::post, "/api/v1/engines/{slug}/versions", admin,
        [&engines, &runs, &checks, json_limits](
            const Request& request, const auth::Principal& caller, http::Responder responder) {
            boost::json::value body = request.body().empty()
                                          ? boost::json::value(boost::json::object{})
                                          : http::parse_json_body(request, json_limits);
            answer_off_thread(
                checks, caller, responder,
                [&engines, &runs, caller, slug = slug_of(request), body = std::move(body)] {
                    bool created = false;
                    const auto gate = preview_gate(runs, caller, slug, body);
                    const auto release = engines.publish(caller, slug, body, created, gate);
                    return json_response(created ? 201 : 200, release);
                });
        });
    // Planning compares schemas and reads releases: on the check pool, like publishing.
    router.add(Method::post, "/api/v1/engines/{slug}/versions/plan", admin,
               [&engines, &checks](const Request& request, const auth::Principal& caller,
                                   http::Responder responder) {
                   answer_off_thread(checks, caller, responder,
                                     [&engines, caller, slug = slug_of(request)] {
                                         return json_response(200, engines.plan(caller, slug));
                                     });
               });
    router.add_sync(Method::get, "/api/v1/engines/{slug}/versions", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(
                            200, boost::json::object{
                                     {"data", engines.list_versions(caller, slug_of(request))}});
                    });
    router.add_sync(Method::get, "/api/v1/engines/{slug}/versions/{version}", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(
                            200, engines.get_version(caller, slug_of(request),
                                                     std::string(request.path_param("version"))));
                    });
    // Canary rollouts of a minor to the runs pinned "<major>.x" (docs/operators.md).
    router.add_sync(Method::post, "/api/v1/engines/{slug}/versions/{version}/rollout", admin,
                    [&engines, json_limits](const Request& request, const auth::Principal& caller) {
                        bool created = false;
                        const boost::json::object rollout =
                            engines.rollout(caller, slug_of(request), version_of(request),
                                            http::parse_json_body(request, json_limits), created);
                        return json_response(created ? 201 : 200, rollout);
                    });
    router.add_sync(Method::get, "/api/v1/engines/{slug}/versions/{version}/rollout", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.get_rollout(caller, slug_of(request),
                                                                      version_of(request)));
                    });
    router.add_sync(Method::post, "/api/v1/engines/{slug}/versions/{version}/rollout/promote",
                    admin, [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.promote_rollout(caller, slug_of(request),
                                                                          version_of(request)));
                    });
    router.add_sync(Method::post, "/api/v1/engines/{slug}/versions/{version}/rollout/abort", admin,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(200, engines.abort_rollout(caller, slug_of(request),
                                                                        version_of(request)));
                    });
    router.add_sync(
        Method::get, "/api/v1/engines/{slug}/versions/{version}/bundle", read,
        [&engines](const Request& request, const auth::Principal& caller) {
            Response response = Response::json(
                200, pretty_json(engines.export_version(
                         caller, slug_of(request), std::string(request.path_param("version")))));
            return response;
        });

    router.add_sync(Method::get, "/api/v1/engines/{slug}/contract", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        return json_response(
                            200, engines.contract(caller, slug_of(request), pin_of(request)));
                    });
    router.add_sync(Method::get, "/api/v1/engines/{slug}/contract.md", read,
                    [&engines](const Request& request, const auth::Principal& caller) {
                        const engines::GuideDetail detail = guide_detail_of(request);
                        Response response;
                        response.content_type = "text/markdown; charset=utf-8";
                        response.body = engines::contract_markdown(
                            engines.contract(caller, slug_of(request), pin_of(request)), detail);
                        return response;
                    });
    router.add_sync(
        Method::get, "/api/v1/engines/{slug}/openapi.json", read,
        [&engines, &links, server_version](const Request& request, const auth::Principal& caller) {
            return json_response(
                200, engine_openapi(engines.contract(caller, slug_of(request), pin_of(request)),
                                    server_version, links.for_request(request, "")));
        });
    router.add_sync(Method::get, "/api/v1/openapi.json", read,
                    [&links, server_version](const Request& request, const auth::Principal&) {
                        return json_response(
                            200, platform_openapi(server_version, links.for_request(request, "")));
                    });
}

}  // namespace engined::api
