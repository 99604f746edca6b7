#include "runs/defensibility.hpp"

#include "common/json_text.hpp"
#include "common/time.hpp"
#include "runs/run_view.hpp"

#include <boost/json.hpp>

#include <array>

namespace engined::runs {
namespace {

constexpr std::array kStages{"FILTER", "ASSEMBLE", "EVALUATE", "RANK"};

boost::json::value stored(const std::string& text) {
    boost::system::error_code ec;
    boost::json::value value = parse_internal_json(text, ec);
    return ec ? boost::json::value(nullptr) : value;
}

double at_ms(const boost::json::value& event) {
    const auto* at = event.as_object().if_contains("at_ms");
    return at != nullptr && at->is_number() ? at->to_number<double>() : 0.0;
}

// VALIDATE happened at submission, before the run was queued; the engine's stages follow, each
// lasting from the end of the one before to its last event.
boost::json::array timeline(const store::Run& run, const boost::json::array& trace) {
    boost::json::array events;
    events.push_back({{"stage", "VALIDATE"},
                      {"at", format_rfc3339_ms(run.created_at_ms)},
                      {"detail", "request validated against the engine contract at submission"}});
    double previous_end = 0.0;
    for (const char* stage : kStages) {
        std::optional<double> first;
        double last = 0.0;
        std::size_t count = 0;
        for (const auto& event : trace) {
            if (!event.is_object() || event.as_object().at("stage") != stage) continue;
            const double at = at_ms(event);
            if (!first) first = at;
            last = at;
            ++count;
        }
        if (!first) continue;
        events.push_back({{"stage", stage},
                          {"started_ms", previous_end},
                          {"ended_ms", last},
                          {"duration_ms", last - previous_end},
                          {"events", count}});
        previous_end = last;
    }
    return events;
}

// Every trace entry that says why something was left out: events with a `reason`, and the
// compact `exclusions` lists an engine may record in bulk.
boost::json::array dropped(const boost::json::array& trace) {
    boost::json::array out;
    for (const auto& entry : trace) {
        if (!entry.is_object()) continue;
        const auto* event = entry.as_object().if_contains("event");
        if (event == nullptr || !event->is_object()) continue;
        const auto& fields = event->as_object();
        if (fields.contains("reason")) {
            boost::json::object item = fields;
            item["stage"] = entry.as_object().at("stage");
            out.push_back(std::move(item));
        }
        if (const auto* exclusions = fields.if_contains("exclusions");
            exclusions && exclusions->is_array()) {
            for (const auto& exclusion : exclusions->as_array()) {
                if (!exclusion.is_object()) continue;
                boost::json::object item = exclusion.as_object();
                item["stage"] = entry.as_object().at("stage");
                out.push_back(std::move(item));
            }
        }
    }
    return out;
}

// For each ranked solution or candidate: its identity and the levels with their inputs.
boost::json::array level_inputs(const boost::json::value& results) {
    boost::json::array out;
    if (!results.is_array()) return out;
    for (const auto& result : results.as_array()) {
        if (!result.is_object()) continue;
        const auto& fields = result.as_object();
        boost::json::object item;
        for (const char* key :
             {"rank", "carrier_id", "name", "tier", "cluster_label", "aggregate_level"}) {
            if (const auto* value = fields.if_contains(key)) item[key] = *value;
        }
        if (const auto* offerings = fields.if_contains("offerings");
            offerings && offerings->is_array()) {
            boost::json::array ids;
            for (const auto& offering : offerings->as_array()) {
                if (offering.is_object() && offering.as_object().contains("id"))
                    ids.push_back(offering.at("id"));
            }
            item["offering_ids"] = std::move(ids);
        }
        if (const auto* scorecard = fields.if_contains("scorecard");
            scorecard && scorecard->is_object()) {
            item["overall_level"] = scorecard->as_object().contains("overall_level")
                                        ? scorecard->at("overall_level")
                                        : nullptr;
            item["dimensions"] = scorecard->as_object().contains("dimensions")
                                     ? scorecard->at("dimensions")
                                     : nullptr;
        } else if (const auto* scores = fields.if_contains("scores")) {
            item["dimensions"] = *scores;
        }
        out.push_back(std::move(item));
    }
    return out;
}

// The scorecard's log(...) lines (and the count of those its limits dropped), which the trace
// holds only when the engine's debug flag was on for the run.
boost::json::array script_log(const boost::json::array& trace) {
    boost::json::array lines;
    for (const auto& entry : trace) {
        const auto* fields = entry.if_object();
        const auto* stage = fields ? fields->if_contains("stage") : nullptr;
        if (stage == nullptr || *stage != "LUA") continue;
        if (const auto* event = fields->if_contains("event"); event && event->is_object())
            lines.push_back(*event);
    }
    return lines;
}

}  // namespace

boost::json::object defensibility_packet(const store::Run& run,
                                         const std::optional<std::string>& release_content_hash) {
    const boost::json::value trace_value = stored(run.trace_json);
    const boost::json::array trace =
        trace_value.is_array() ? trace_value.as_array() : boost::json::array{};
    const boost::json::value output = stored(run.output_json);
    const auto* output_fields = output.if_object();
    auto from_output = [&](const char* key) {
        const auto* value = output_fields ? output_fields->if_contains(key) : nullptr;
        return value ? *value : boost::json::value(nullptr);
    };
    boost::json::object identity = run_to_json(run);
    for (const char* bulky : {"output", "solutions", "candidates", "error_details"})
        identity.erase(bulky);
    identity["config_hash"] = run.config_hash;
    identity["content_hash"] = release_content_hash ? boost::json::value(*release_content_hash)
                                                    : boost::json::value(nullptr);
    identity["fingerprint_components"] =
        run.fingerprint_json ? stored(*run.fingerprint_json) : boost::json::value(nullptr);

    return {{"version", kPacketFormatVersion},
            {"run", std::move(identity)},
            {"events", timeline(run, trace)},
            {"provenance",
             {{"dropped", dropped(trace)},
              {"weights", from_output("weights")},
              {"weights_source", from_output("weights_source")},
              {"results", level_inputs(stored(run.results_json))}}},
            {"provenance_coverage", "present"},
            {"script_log", script_log(trace)},
            {"model_calls", boost::json::array{}},
            {"external_calls", boost::json::array{}},
            {"redaction", {{"fields_redacted", boost::json::array{}}}},
            {"output", output}};
}

}  // namespace engined::runs
