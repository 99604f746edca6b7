// The whole server wired together: store, plugins, engines, workers, routes and the listener.
#pragma once

#include "app/config.hpp"

#include <cstdint>
#include <memory>
#include <optional>

namespace engined::store {
class Store;
}
namespace engined::http {
class Router;
}

namespace engined::app {

class App {
public:
    // Opens the store and loads plugins and engines; throws std::runtime_error (or
    // store::StoreUnavailable) with a message an operator can act on.
    explicit App(Config config);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    // Resumes unfinished runs and starts serving.
    void start();
    uint16_t port() const;
    // The metrics listener's bound port; nullopt when --metrics-listen is not set.
    std::optional<uint16_t> metrics_port() const;
    // Graceful: stop accepting, finish in-flight requests and the runs in hand, flush the store.
    void stop();

    store::Store& store();
    // The routing table the listener serves, for dispatching requests in-process (the HTTP fuzz
    // harness) without a socket; usable before start().
    const http::Router& router() const;
    // The metrics listener's routing table (GET /metrics once --metrics-listen is set).
    const http::Router& metrics_router() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The folder holding contracts/, scripts/lua/ and versions/: `configured` when set, else the
// current directory, the parent of the binary's directory (a build tree inside the repo) or
// ../share/engined beside the binary (an installation).
std::filesystem::path find_resources_dir(const std::filesystem::path& configured);

}  // namespace engined::app
