// enginectl runs: submit a run body, wait for it with progress, and show it as a table.
#include "commands.hpp"

#include "http/client.hpp"
#include "run_table.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace engined::cli {
namespace {

struct Endpoint {
    std::string host;
    uint16_t port = 0;
};

Endpoint parse_url(const std::string& url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) throw UsageError("--url must start with http:// (got '" + url + "')");
    std::string rest = url.substr(scheme.size());
    rest = rest.substr(0, rest.find('/'));
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) return {rest, 80};
    return {rest.substr(0, colon), static_cast<uint16_t>(std::stoi(rest.substr(colon + 1)))};
}

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

class Api {
public:
    explicit Api(const Arguments& args)
        : endpoint_(parse_url(args.optional("url", env_or("ENGINED_URL", "http://127.0.0.1:8080")))),
          key_(args.optional("key", env_or("ENGINED_API_KEY", ""))),
          client_(endpoint_.host, endpoint_.port) {
        if (key_.empty()) throw UsageError("no API key: pass --key or set ENGINED_API_KEY");
    }

    boost::json::object call(const std::string& method, const std::string& target, const std::string& body = {}) {
        const auto response = client_.request(method, target, body, {{"Authorization", "Bearer " + key_}});
        boost::system::error_code ec;
        const boost::json::value doc = boost::json::parse(response.body, ec);
        if (ec || !doc.is_object()) {
            throw std::runtime_error("HTTP " + std::to_string(response.status) + ": " + response.body);
        }
        if (response.status >= 400) {
            const auto& error = doc.get_object().contains("error") ? doc.at("error") : doc;
            throw std::runtime_error("HTTP " + std::to_string(response.status) + " " + boost::json::serialize(error));
        }
        return doc.get_object();
    }

private:
    Endpoint endpoint_;
    std::string key_;
    http::Client client_;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool is_terminal(const boost::json::object& run) {
    const auto status = run.at("status").as_string();
    return status == "completed" || status == "degraded" || status == "failed";
}

// Polls the way the API guide recommends for slow runs, but starts fast: engined usually
// finishes in milliseconds.
boost::json::object wait_for(Api& api, const std::string& run_id, double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    auto delay = std::chrono::milliseconds(5);
    std::string last_status;
    for (;;) {
        boost::json::object run = api.call("GET", "/api/v1/runs/" + run_id);
        const std::string status(run.at("status").as_string());
        if (status != last_status) {
            std::cerr << "run " << run_id << ": " << status << "\n";
            last_status = status;
        }
        if (is_terminal(run)) return run;
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("run " + run_id + " is still " + status + " after " +
                                     std::to_string(timeout_s) + " s");
        }
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 3 / 2, std::chrono::milliseconds(2000));
    }
}

std::string single_positional(const Arguments& args, const char* what) {
    if (args.positional().size() != 1) throw UsageError(std::string("expected one ") + what);
    return args.positional()[0];
}

}  // namespace

int runs_command(const std::string& action, const Arguments& args) {
    if (action == "submit") {
        const std::string file = single_positional(args, "FILE with the run body");
        boost::json::value body = boost::json::parse(read_file(file));
        if (args.has("engine-version")) body.as_object()["engine_version"] = args.required("engine-version");
        Api api(args);
        const std::string engine = args.optional("engine", "default");
        const auto accepted = api.call("POST", "/api/v1/engines/" + engine + "/runs", boost::json::serialize(body));
        const std::string run_id(accepted.at("run_id").as_string());
        std::cerr << "submitted run " << run_id << "\n";
        if (!args.has("wait")) {
            std::cout << run_id << "\n";
            return 0;
        }
        const auto run = wait_for(api, run_id, std::stod(args.optional("timeout", "60")));
        std::cout << render_run(run);
        return run.at("status").as_string() == "failed" ? 1 : 0;
    }
    if (action == "show") {
        Api api(args);
        std::cout << render_run(api.call("GET", "/api/v1/runs/" + single_positional(args, "RUN_ID")));
        return 0;
    }
    if (action == "wait") {
        Api api(args);
        const auto run = wait_for(api, single_positional(args, "RUN_ID"), std::stod(args.optional("timeout", "60")));
        std::cout << render_run(run);
        return run.at("status").as_string() == "failed" ? 1 : 0;
    }
    throw UsageError("unknown runs action '" + action + "'");
}

}  // namespace engined::cli
