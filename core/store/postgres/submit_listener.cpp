#include "store/postgres/submit_listener.hpp"

#include "common/log.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

namespace engined::store::postgres {
namespace {

using Session = std::unique_ptr<PGconn, decltype(&PQfinish)>;

constexpr std::chrono::milliseconds kFirstRetry{250};
constexpr std::chrono::milliseconds kLongestRetry{5000};

// A session listening on the channel; null (logged) when the server cannot be reached.
Session open_listening(const std::string& url) {
    Session session(PQconnectdb(url.c_str()), &PQfinish);
    if (PQstatus(session.get()) != CONNECTION_OK) {
        log::warn("listening for submits failed", {{"detail", PQerrorMessage(session.get())}});
        return Session(nullptr, &PQfinish);
    }
    const std::unique_ptr<PGresult, decltype(&PQclear)> listened(
        PQexec(session.get(), (std::string("LISTEN ") + kSubmitChannel).c_str()), &PQclear);
    if (PQresultStatus(listened.get()) != PGRES_COMMAND_OK) {
        log::warn("listening for submits failed", {{"detail", PQerrorMessage(session.get())}});
        return Session(nullptr, &PQfinish);
    }
    return session;
}

}  // namespace

SubmitListener::SubmitListener(std::string url, std::string own_tag, std::function<void()> wake)
    : url_(std::move(url)), own_tag_(std::move(own_tag)), wake_(std::move(wake)) {
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
    if (stop_fd_ < 0) throw std::runtime_error("listening for submits: eventfd failed");
    thread_ = std::thread([this] { listen(); });
}

SubmitListener::~SubmitListener() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = write(stop_fd_, &one, sizeof one);
    thread_.join();
    close(stop_fd_);
}

void SubmitListener::listen() {
    std::chrono::milliseconds retry = kFirstRetry;
    for (;;) {
        Session session = open_listening(url_);
        if (!session) {
            if (!pause(retry)) return;
            retry = std::min(retry * 2, kLongestRetry);
            continue;
        }
        retry = kFirstRetry;
        // Submits committed while no session listened are only found by looking.
        wake_();
        if (!wait_for_notifications(session.get())) return;
        log::warn("listening for submits: the session was lost; reconnecting",
                  {{"detail", PQerrorMessage(session.get())}});
        if (!pause(retry)) return;
    }
}

bool SubmitListener::wait_for_notifications(PGconn* session) {
    for (;;) {
        pollfd fds[2] = {{PQsocket(session), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) continue;  // interrupted by a signal
        if (fds[1].revents != 0) return false;
        if (PQconsumeInput(session) == 0) return true;
        bool elsewhere = false;
        while (PGnotify* notice = PQnotifies(session)) {
            if (own_tag_ != notice->extra) elsewhere = true;
            PQfreemem(notice);
        }
        if (elsewhere) wake_();
        if (PQstatus(session) != CONNECTION_OK) return true;
    }
}

bool SubmitListener::pause(std::chrono::milliseconds delay) {
    pollfd stop{stop_fd_, POLLIN, 0};
    return poll(&stop, 1, static_cast<int>(delay.count())) != 1;
}

}  // namespace engined::store::postgres
