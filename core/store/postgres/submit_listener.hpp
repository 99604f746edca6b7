// core/store/postgres/submit_listener — the wake-up across nodes: one dedicated libpq session per
// node that LISTENs on the channel every submit NOTIFYs in its transaction, and a thread that
// waits on its socket and tells the worker pool when another node committed a run. It reconnects
// with backoff after the server dropped the session, and wakes once it is back (a submit may have
// come meanwhile). Used only inside core/store/postgres.
#pragma once

#include "store/postgres/postgres_store.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace engined::store::postgres {

// The channel, and the statement a submit sends in its transaction (with its node's tag as the
// payload, so a node is not woken by its own submits: it hands those over in-process).
inline constexpr const char* kSubmitChannel = "engined_runs";
inline constexpr const char* kNotifySubmit = "SELECT pg_notify('engined_runs', $1)";

class SubmitListener final : public SubmitWatch {
public:
    // Starts listening at once; `wake` runs on the listener's thread and must not block.
    SubmitListener(std::string url, std::string own_tag, std::function<void()> wake);
    ~SubmitListener() override;
    SubmitListener(const SubmitListener&) = delete;
    SubmitListener& operator=(const SubmitListener&) = delete;

private:
    void listen();
    // Wakes for every batch of notifications from other nodes until the session broke (true)
    // or the listener stops (false).
    bool wait_for_notifications(PGconn* session);
    // Sleeps for `delay` unless the listener stops first; false when it stops.
    bool pause(std::chrono::milliseconds delay);

    const std::string url_;
    const std::string own_tag_;
    const std::function<void()> wake_;
    int stop_fd_ = -1;  // an eventfd: written once to stop the thread out of poll()
    std::thread thread_;
};

}  // namespace engined::store::postgres
