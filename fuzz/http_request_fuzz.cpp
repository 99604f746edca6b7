// fuzz_http_request: raw bytes as one HTTP/1.1 request, the way a server session takes them: a
// Beast request_parser with the server's default header and body limits, then http::make_request
// and the real Router of a real App (store in a fresh temp folder, the bundled plugins, engines
// and contracts, rate limits out of the way), dispatched in-process without a socket. The App is
// never started: its workers stay idle, so a run that passes validation is recorded as queued
// and never executed. "@API_KEY@" in the input becomes a key with runs:read and runs:write of
// organisation "fuzz", so authenticated requests reach JSON parsing and contract validation.
// The key has no engines:admin scope, so engines, configurations and releases cannot change and
// every input meets the same engines. What does grow is the store (one row per accepted run,
// about 1 KB) and the idle queue; the folder is removed when the process exits normally.
// Invariants: every request gets exactly one answer, never 500 (an unexpected exception), and a
// JSON answer is well-formed JSON. With ENGINED_FUZZ_TRACE set, each answer's status and the start
// of its body go to stderr (to see which code a seed reaches).
#include "fuzz_support.hpp"

#include "app/app.hpp"
#include "auth/api_keys.hpp"
#include "common/crypto.hpp"
#include "http/beast_request.hpp"
#include "http/framing.hpp"
#include "http/router.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>

namespace {

namespace bhttp = boost::beast::http;
using namespace engined;

constexpr std::string_view kTarget = "fuzz_http_request";
constexpr std::string_view kKeyPlaceholder = "@API_KEY@";

struct Fixture {
    Fixture()
        : data_dir(std::filesystem::temp_directory_path() / ("engined-fuzz-" + random_hex(6))) {
        config.data_dir = data_dir;
        config.listen = "127.0.0.1:0";
        config.resources_dir = ENGINED_SOURCE_DIR;
        config.plugins_dir = std::filesystem::path(ENGINED_BINARY_DIR) / "plugins";
        config.sync_full = false;
        config.rate_limit_per_second = 1e9;
        config.rate_limit_burst = 1'000'000'000;
        app = std::make_unique<app::App>(config);
        key = auth::issue_key(app->store(), "fuzz", "test",
                              {auth::kScopeRunsRead, auth::kScopeRunsWrite})
                  .key;
    }
    ~Fixture() {
        app.reset();
        std::error_code ignored;
        std::filesystem::remove_all(data_dir, ignored);
    }

    std::filesystem::path data_dir;
    app::Config config;
    std::unique_ptr<app::App> app;
    std::string key;
};

Fixture& fixture() {
    static Fixture instance;
    return instance;
}

std::string with_key(std::string_view input, const std::string& key) {
    std::string text(input);
    for (auto at = text.find(kKeyPlaceholder); at != std::string::npos;
         at = text.find(kKeyPlaceholder, at + key.size())) {
        text.replace(at, kKeyPlaceholder.size(), key);
    }
    return text;
}

// The parsed request, or nullopt where a session would refuse it before routing (malformed,
// ambiguously framed, incomplete, over a limit).
std::optional<http::BeastRequest> parse(const std::string& text, const app::Config& config) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(config.body_limit_bytes);
    parser.header_limit(static_cast<std::uint32_t>(config.header_limit_bytes));
    boost::beast::error_code ec;
    boost::asio::const_buffer rest(text.data(), text.size());
    while (rest.size() > 0 && !parser.is_done()) {
        const std::size_t used = parser.put(rest, ec);
        if (ec == bhttp::error::need_more) break;
        if (ec) return std::nullopt;
        if (parser.is_header_done() && http::framing_error(parser.get().base()))
            return std::nullopt;
        rest += used;
    }
    if (!parser.is_done()) {
        ec = {};
        parser.put_eof(ec);
        if (ec || !parser.is_done()) return std::nullopt;
    }
    return parser.release();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using engined::fuzz::require;
    Fixture& fixed = fixture();
    auto message = parse(with_key(engined::fuzz::as_text(data, size), fixed.key), fixed.config);
    if (!message) return 0;

    http::Request request = http::make_request(*message, "req_fuzz");
    auto answer = std::make_shared<std::promise<http::Response>>();
    auto answered = answer->get_future();
    const http::Responder responder(
        [answer](http::Response response) { answer->set_value(std::move(response)); });
    fixed.app->router().dispatch(request, responder);
    require(answered.wait_for(std::chrono::seconds(5)) == std::future_status::ready, kTarget,
            "no answer within 5 s");

    const http::Response response = answered.get();
    if (std::getenv("ENGINED_FUZZ_TRACE") != nullptr) {
        std::fprintf(stderr, "%d %.200s\n", response.status, response.body.c_str());
    }
    require(response.status >= 200 && response.status < 600, kTarget,
            "status " + std::to_string(response.status));
    require(response.status != 500, kTarget, "answered 500: " + response.body);
    if (response.content_type == "application/json") {
        boost::system::error_code ec;
        boost::json::parse(response.body, ec);
        require(!ec, kTarget, "a JSON answer that is not JSON: " + response.body);
    }
    return 0;
}
