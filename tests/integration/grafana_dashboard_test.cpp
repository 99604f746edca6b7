// docs/grafana/engined-dashboard.json against a real engined: the file is JSON, and every metric
// its queries name is a family the metrics listener exports after a run.
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace engined::testing {
namespace {

// Every "expr" and templating "query" string anywhere in the dashboard.
void collect_queries(const boost::json::value& value, std::vector<std::string>& out) {
    if (value.is_array()) {
        for (const auto& item : value.get_array()) collect_queries(item, out);
    } else if (value.is_object()) {
        for (const auto& member : value.get_object()) {
            if ((member.key() == "expr" || member.key() == "definition") &&
                member.value().is_string()) {
                out.emplace_back(member.value().get_string());
            }
            collect_queries(member.value(), out);
        }
    }
}

// The families of a Prometheus text exposition ("# TYPE name type").
std::set<std::string> exported_families(const std::string& exposition) {
    std::set<std::string> names;
    const std::regex type_line(R"(# TYPE (\S+) \S+)");
    for (std::sregex_iterator it(exposition.begin(), exposition.end(), type_line), end; it != end;
         ++it) {
        names.insert((*it)[1]);
    }
    return names;
}

// A histogram's series name its family: x_bucket, x_sum and x_count belong to x.
std::string family_of(const std::string& series, const std::set<std::string>& families) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string text(suffix);
        if (series.size() > text.size() &&
            series.compare(series.size() - text.size(), text.size(), text) == 0) {
            const std::string base = series.substr(0, series.size() - text.size());
            if (families.count(base)) return base;
        }
    }
    return series;
}

TEST(GrafanaDashboard, EveryQueriedSeriesIsOneEnginedExports) {
    const auto dashboard_file =
        std::filesystem::path(ENGINED_SOURCE_DIR) / "docs" / "grafana" / "engined-dashboard.json";
    boost::system::error_code ec;
    const boost::json::value dashboard = boost::json::parse(read_text(dashboard_file), ec);
    ASSERT_FALSE(ec) << dashboard_file << " is not JSON: " << ec.message();
    ASSERT_TRUE(dashboard.at("panels").is_array());
    std::vector<std::string> queries;
    collect_queries(dashboard, queries);
    ASSERT_GE(queries.size(), dashboard.at("panels").as_array().size());

    // Traffic that brings the run, queue and Lua families into being: a run whose scorecard
    // raises an error, which the Lua error family counts.
    TestServer server;
    const std::string key =
        server.create_key("grafana-org", "live", {"runs:write", "runs:read", "engines:admin"});
    http::Client client = server.client();
    const auto created = call(client, "POST", "/api/v1/engines", key,
                              R"({"slug": "grafana", "copy_from": "default"})");
    ASSERT_EQ(created.status, 201) << created.raw.body;
    boost::json::object config =
        call(client, "GET", "/api/v1/engines/grafana/config", key).body.at("config").as_object();
    config["lua_source"] = std::string(config.at("lua_source").as_string()) +
                           "\nlocal weights_before = weights\nfunction weights(bucket, input)\n"
                           "  if input.address and input.address.fail then error('dashboard') end\n"
                           "  return weights_before(bucket, input)\nend\n";
    const auto put = call(client, "PUT", "/api/v1/engines/grafana/config", key,
                          boost::json::serialize(boost::json::object{{"config", config}}));
    ASSERT_EQ(put.status, 200) << put.raw.body;
    boost::json::value body =
        boost::json::parse(read_text(golden_dir() / "auto_only_ny.input.json"));
    body.at("input").as_object()["address"].as_object()["fail"] = true;
    const auto accepted =
        call(client, "POST", "/api/v1/engines/grafana/runs", key, boost::json::serialize(body));
    ASSERT_EQ(accepted.status, 202) << accepted.raw.body;
    wait_for_run(client, key, std::string(accepted.body.at("run_id").as_string()), 60);
    http::Client metrics = server.metrics_client();
    const std::set<std::string> families =
        exported_families(metrics.request("GET", "/metrics", "").body);
    ASSERT_FALSE(families.empty());

    const std::regex metric_name(R"(\bengined_[a-z_]+)");
    std::set<std::string> queried;
    for (const std::string& query : queries) {
        for (std::sregex_iterator it(query.begin(), query.end(), metric_name), end; it != end;
             ++it) {
            queried.insert(family_of(it->str(), families));
        }
    }
    EXPECT_GE(queried.size(), 10u);
    for (const std::string& name : queried) {
        EXPECT_TRUE(families.count(name))
            << "the dashboard queries " << name << ", which engined does not export";
    }
}

}  // namespace
}  // namespace engined::testing
