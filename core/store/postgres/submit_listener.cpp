#include "store/postgres/submit_listener.hpp"

#include "common/log.hpp"
#include "common/thread_name.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace engined::store::postgres {
namespace {

using Session = std::unique_ptr<PGconn, decltype(&PQfinish)>;

constexpr std::chrono::milliseconds kFirstRetry{250};
constexpr std::chrono::milliseconds kLongestRetry{5000};

// A session listening on `channel`; null (logged) when the server cannot be reached.
Session open_listening(const std::string& url, const std::string& channel) {
    Session session(PQconnectdb(url.c_str()), &PQfinish);
    if (PQstatus(session.get()) != CONNECTION_OK) {
        log::warn("listening failed",
                  {{"channel", channel}, {"detail", PQerrorMessage(session.get())}});
        return Session(nullptr, &PQfinish);
    }
    const std::unique_ptr<PGresult, decltype(&PQclear)> listened(
        PQexec(session.get(), ("LISTEN " + channel).c_str()), &PQclear);
    if (PQresultStatus(listened.get()) != PGRES_COMMAND_OK) {
        log::warn("listening failed",
                  {{"channel", channel}, {"detail", PQerrorMessage(session.get())}});
        return Session(nullptr, &PQfinish);
    }
    return session;
}

}  // namespace

ChannelListener::ChannelListener(std::string url, std::string channel, std::string own_tag,
                                 OnNotice on_notice, OnListening on_listening)
    : url_(std::move(url)),
      channel_(std::move(channel)),
      own_tag_(std::move(own_tag)),
      on_notice_(std::move(on_notice)),
      on_listening_(std::move(on_listening)) {
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
    if (stop_fd_ < 0) throw std::runtime_error("listening on " + channel_ + ": eventfd failed");
    thread_ = named_thread("engined-listen", [this] { listen(); });
}

ChannelListener::~ChannelListener() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = write(stop_fd_, &one, sizeof one);
    thread_.join();
    close(stop_fd_);
}

void ChannelListener::listen() {
    std::chrono::milliseconds retry = kFirstRetry;
    for (;;) {
        Session session = open_listening(url_, channel_);
        if (!session) {
            if (!pause(retry)) return;
            retry = std::min(retry * 2, kLongestRetry);
            continue;
        }
        retry = kFirstRetry;
        // What was sent while no session listened is only found by looking.
        on_listening_();
        if (!wait_for_notifications(session.get())) return;
        log::warn("listening: the session was lost; reconnecting",
                  {{"channel", channel_}, {"detail", PQerrorMessage(session.get())}});
        if (!pause(retry)) return;
    }
}

bool ChannelListener::wait_for_notifications(PGconn* session) {
    for (;;) {
        pollfd fds[2] = {{PQsocket(session), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) continue;  // interrupted by a signal
        if (fds[1].revents != 0) return false;
        if (PQconsumeInput(session) == 0) return true;
        while (PGnotify* notice = PQnotifies(session)) {
            const std::string_view payload(notice->extra);
            if (!payload.starts_with(own_tag_)) {
                const std::size_t space = payload.find(' ');
                on_notice_(space == std::string_view::npos ? std::string_view()
                                                           : payload.substr(space + 1));
            }
            PQfreemem(notice);
        }
        if (PQstatus(session) != CONNECTION_OK) return true;
    }
}

bool ChannelListener::pause(std::chrono::milliseconds delay) {
    pollfd stop{stop_fd_, POLLIN, 0};
    return poll(&stop, 1, static_cast<int>(delay.count())) != 1;
}

}  // namespace engined::store::postgres
