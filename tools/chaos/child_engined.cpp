#include "chaos/child_engined.hpp"

#include "auth/api_keys.hpp"
#include "common/crypto.hpp"
#include "http/client.hpp"
#include "store/store_url.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace engined::chaos {

std::vector<cli::OptionSpec> campaign_option_specs(std::vector<cli::OptionSpec> own,
                                                   int default_threads) {
    own.push_back({"engined", "PATH", "the engined binary (default: the one beside this tool)"});
    own.push_back({"threads", "T",
                   "submitting threads (default " + std::to_string(default_threads) + ")",
                   cli::ValueKind::kCount});
    own.push_back({"resources-dir", "DIR",
                   "what engined serves: versions/, contracts/, plugins (default: the source "
                   "tree this tool was built from)"});
    own.push_back({"body", "FILE",
                   "the run request submitted (default: the golden placement input "
                   "brokerage_tx_multicarrier)"});
    own.push_back({"keep", "", "keep the data directory even when the campaign passes"});
    return own;
}

CampaignOptions read_campaign_options(const cli::Arguments& args, int default_threads) {
    CampaignOptions options;
    options.engined = args.optional(
        "engined",
        (std::filesystem::canonical("/proc/self/exe").parent_path() / "engined").string());
    options.threads = static_cast<int>(args.number("threads", default_threads));
    options.resources_dir = args.optional("resources-dir", ENGINED_SOURCE_DIR);
    options.body = args.optional(
        "body",
        (options.resources_dir / "tests/golden/placement/brokerage_tx_multicarrier.input.json")
            .string());
    options.keep = args.has("keep");
    return options;
}

std::filesystem::path fresh_temp_dir(const std::string& prefix) {
    auto dir = std::filesystem::temp_directory_path() / (prefix + "-" + random_hex(6));
    std::filesystem::create_directories(dir);
    return dir;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

uint16_t free_loopback_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

std::string create_key(const std::filesystem::path& data_dir, const std::string& store_url) {
    const auto store = store::open_store(store::resolve_store_url(store_url, data_dir));
    return auth::issue_key(*store, "chaos", "test", {}, 1e9, 1'000'000'000).key;
}

ChildEngined::ChildEngined(const Launch& launch, uint16_t port) : port_(port) {
    std::vector<std::string> args{launch.binary.string(),
                                  "--listen",
                                  "127.0.0.1:" + std::to_string(port),
                                  "--data-dir",
                                  launch.data_dir.string(),
                                  "--resources-dir",
                                  launch.resources_dir.string()};
    args.insert(args.end(), launch.extra_args.begin(), launch.extra_args.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string log = (launch.data_dir / "engined.log").string();

    // posix_spawn, not fork: the caller may have threads running (submitters), and a forked
    // child of a threaded process may not allocate before exec.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        pid_ = -1;
        throw std::runtime_error("cannot start " + launch.binary.string() + ": " +
                                 std::strerror(spawned));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("engined exited at start; see " + log);
        }
        try {
            http::Client probe("127.0.0.1", port);
            if (probe.request("GET", "/health").status == 200) return;
        } catch (const std::exception&) {}
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill_hard();
    throw std::runtime_error("engined did not become healthy within 30 s; see " + log);
}

ChildEngined::~ChildEngined() {
    if (pid_ > 0) kill_hard();
}

void ChildEngined::kill_hard() {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

int ChildEngined::terminate() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
}

long resident_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}

}  // namespace engined::chaos
