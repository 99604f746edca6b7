#include "child_engined.hpp"

#include "auth/api_keys.hpp"
#include "http/client.hpp"
#include "store/store.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace engined::testing {

uint16_t free_loopback_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

std::string create_key_in(const std::filesystem::path& data_dir) {
    store::Options options;
    options.path = (data_dir / "engined.sqlite3").string();
    store::Store store(options);
    return auth::issue_key(store, "acme", "test", {}).key;
}

ChildEngined::ChildEngined(const std::filesystem::path& data_dir, uint16_t port,
                           const std::vector<std::string>& extra_args) {
    const std::string binary = std::string(ENGINED_BINARY_DIR) + "/engined";
    const std::string log = (data_dir / "engined.log").string();
    std::vector<std::string> args{binary, "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir",
                                  data_dir.string(), "--resources-dir", ENGINED_SOURCE_DIR, "--workers", "1",
                                  "--rate-limit", "1000000", "--rate-burst", "1000000"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
        FILE* out = std::freopen(log.c_str(), "a", stderr);
        (void)out;
        execv(binary.c_str(), argv.data());
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            http::Client probe("127.0.0.1", port);
            if (probe.request("GET", "/health").status == 200) return;
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill_hard();
    throw std::runtime_error("engined did not become healthy; see " + log);
}

ChildEngined::~ChildEngined() {
    if (pid_ > 0) kill_hard();
}

void ChildEngined::kill_hard() {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

int ChildEngined::terminate_gracefully() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
}

}  // namespace engined::testing
