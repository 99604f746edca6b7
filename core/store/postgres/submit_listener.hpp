// core/store/postgres/submit_listener — what nodes hear of each other: one dedicated libpq session
// per channel and node that LISTENs on the channel other nodes NOTIFY in their transactions, and
// a thread that waits on its socket and hands each notification from another node to its handler:
// submits (the worker pool claims) and finished runs (long-poll waits are answered). It
// reconnects with backoff after the server dropped the session, and tells its handler once it is
// back (something may have been sent meanwhile). Used only inside core/store/postgres.
#pragma once

#include "store/postgres/postgres_store.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace engined::store::postgres {

// The channels, and the statement a submit sends in its transaction (a finish notifies in its
// outcome's statement: runs.cpp). Payloads start with the sending node's tag, so that a node is
// not told its own: it handles those in-process. A finish's payload is "<tag> <run id>".
inline constexpr const char* kSubmitChannel = "engined_runs";
inline constexpr const char* kNotifySubmit = "SELECT pg_notify('engined_runs', $1)";
inline constexpr const char* kFinishedChannel = "engined_runs_finished";

class ChannelListener final : public SubmitWatch {
public:
    // What other nodes sent: `payload` without the sender's tag and the space after it.
    using OnNotice = std::function<void(std::string_view payload)>;
    // Listening began (again): notifications sent meanwhile were missed.
    using OnListening = std::function<void()>;

    // Starts listening at once; the handlers run on the listener's thread and must not block.
    ChannelListener(std::string url, std::string channel, std::string own_tag, OnNotice on_notice,
                    OnListening on_listening);
    ~ChannelListener() override;
    ChannelListener(const ChannelListener&) = delete;
    ChannelListener& operator=(const ChannelListener&) = delete;

private:
    void listen();
    // Hands over every notification from other nodes until the session broke (true) or the
    // listener stops (false).
    bool wait_for_notifications(PGconn* session);
    // Sleeps for `delay` unless the listener stops first; false when it stops.
    bool pause(std::chrono::milliseconds delay);

    const std::string url_;
    const std::string channel_;
    const std::string own_tag_;
    const OnNotice on_notice_;
    const OnListening on_listening_;
    int stop_fd_ = -1;  // an eventfd: written once to stop the thread out of poll()
    std::thread thread_;
};

}  // namespace engined::store::postgres
