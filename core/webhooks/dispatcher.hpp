// The delivery side: threads that lease due deliveries from the store's outbox, POST the signed
// event, record the attempt and schedule the next one. At least once: a delivery is leased (not
// removed) while in flight, so a crash leaves it pending and a restart sends it again under the
// same X-Nexio-Delivery and event id.
#pragma once

#include "net/outbound_client.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace engined::webhooks {

inline constexpr const char* kWebhookVersion = "2026-11-01";

struct DispatcherOptions {
    int workers = 16;
    // Delay before retry 1, 2, …; a delivery failing once more than it has delays is given up.
    // The default spans about 23 hours.
    std::vector<std::chrono::milliseconds> retry_schedule{
        std::chrono::seconds(30), std::chrono::minutes(2), std::chrono::minutes(10),
        std::chrono::minutes(30), std::chrono::hours(1),   std::chrono::hours(3),
        std::chrono::hours(6),    std::chrono::hours(12)};
    // An endpoint failing this many attempts in a row is disabled (0: never).
    int disable_after = 50;
    std::chrono::milliseconds poll_interval{500};
    std::string platform_version;
    // The body POSTed to an evaluation's own webhook_url: the flat result of the evaluation-era
    // API (api::evaluation_view), not the event envelope. Deliveries to endpoints keep the envelope.
    std::function<boost::json::object(const store::Run&)> evaluation_result;
};

// What happened to one attempt, for metrics: delivered, retrying or failed (given up).
using AttemptObserver =
    std::function<void(const store::WebhookDelivery&, store::DeliveryStatus outcome)>;

class Dispatcher {
public:
    Dispatcher(store::Store& store, net::OutboundPolicy policy, DispatcherOptions options,
               AttemptObserver observer = {});
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    // Starts the senders. Leases other senders hold (on this database, any node) are left alone:
    // a delivery whose sender died is sent once its lease expired.
    void start();
    // A delivery may have become due (a run ended, a manual re-send): look now.
    void wake();
    // Lets each sender finish the attempt in hand.
    void stop();

    // The event body of a delivery: the same bytes on every attempt.
    static std::string event_body(const store::WebhookDelivery& delivery, const store::Run& run);

private:
    // What this delivery POSTs: the event body, or the evaluation result (see DispatcherOptions).
    std::string body_of(const store::WebhookDelivery& delivery, const store::Run& run) const;
    void send_loop();
    // Returns once woken, or after the poll interval for the one idle sender that polls: an
    // idle node looks at its outbox once per interval however many senders it has (a retry
    // falling due is found by that look; a finished run or a sender that found work wakes one).
    void wait_for_work(uint64_t seen_generation, net::OutboundSession& session);
    void attempt(const store::WebhookDelivery& delivery, net::OutboundSession& session);
    store::AttemptVerdict verdict_for(const net::OutboundResult& result, int attempt_number,
                                      int64_t now_ms);
    void disable_endpoint(const store::WebhookDelivery& delivery, int streak, int64_t now_ms);

    store::Store& store_;
    net::OutboundClient client_;
    DispatcherOptions options_;
    AttemptObserver observer_;
    std::chrono::milliseconds lease_;
    net::KeepAlive keep_alive_;

    std::mutex mutex_;
    std::condition_variable wakeup_;
    bool stopping_ = false;
    uint64_t wake_generation_ = 0;
    bool an_idle_sender_polls_ = false;
    std::mt19937_64 jitter_;
    std::vector<std::thread> senders_;
};

}  // namespace engined::webhooks
