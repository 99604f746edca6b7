#include "webhooks/dispatcher.hpp"

#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "common/time.hpp"
#include "net/url.hpp"
#include "runs/run_view.hpp"
#include "webhooks/webhook_service.hpp"
#include "webhooks/signature.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>

namespace engined::webhooks {
namespace {

constexpr int64_t kLongestRetryAfterMs = 24LL * 60 * 60 * 1000;

// Retry-After as delta-seconds or an HTTP-date; nullopt when absent or unreadable.
std::optional<int64_t> retry_after_ms(const std::optional<std::string>& header, int64_t now_ms) {
    if (!header || header->empty()) return std::nullopt;
    int64_t seconds = 0;
    const auto [end, ec] =
        std::from_chars(header->data(), header->data() + header->size(), seconds);
    if (ec == std::errc() && end == header->data() + header->size() && seconds >= 0)
        return seconds * 1000;
    std::tm parts{};
    if (strptime(header->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts) == nullptr)
        return std::nullopt;
    const int64_t at_ms = static_cast<int64_t>(timegm(&parts)) * 1000;
    return std::max<int64_t>(0, at_ms - now_ms);
}

std::string attempt_error(const net::OutboundResult& result) {
    if (result.failure == net::OutboundFailure::none) {
        return result.status >= 200 && result.status < 300
                   ? ""
                   : "HTTP " + std::to_string(result.status);
    }
    return std::string(net::to_string(result.failure)) +
           (result.detail.empty() ? "" : ": " + result.detail);
}

// No retry can succeed where the URL itself is refused.
bool is_permanent(net::OutboundFailure failure) {
    return failure == net::OutboundFailure::invalid_url ||
           failure == net::OutboundFailure::refused_address;
}

}  // namespace

Dispatcher::Dispatcher(store::Store& store, net::OutboundPolicy policy, DispatcherOptions options,
                       AttemptObserver observer)
    : store_(store),
      client_(policy),
      options_(std::move(options)),
      observer_(std::move(observer)),
      // Longer than any attempt can take: a live lease always belongs to a sender at work.
      lease_(policy.total_timeout + std::chrono::seconds(60)),
      jitter_(std::random_device{}()) {}

Dispatcher::~Dispatcher() {
    stop();
}

void Dispatcher::start() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = false;
    }
    for (int i = 0; i < std::max(1, options_.workers); ++i)
        senders_.push_back(named_thread("engined-webhook", [this] { send_loop(); }));
}

void Dispatcher::wake() {
    {
        std::lock_guard lock(mutex_);
        ++wake_generation_;
    }
    // One sender looks; one that finds a delivery wakes the next (send_loop), so the senders
    // join in as far as there is work, and a finish that set off no delivery costs one look,
    // not one per sender.
    wakeup_.notify_one();
}

void Dispatcher::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    for (auto& sender : senders_) {
        if (sender.joinable()) sender.join();
    }
    senders_.clear();
}

void Dispatcher::send_loop() {
    // Each sender keeps its connections to receivers between deliveries.
    net::OutboundSession session(client_, keep_alive_);
    for (;;) {
        uint64_t seen_generation = 0;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            seen_generation = wake_generation_;
        }
        std::vector<store::WebhookDelivery> due;
        try {
            const int64_t now = now_unix_ms();
            due = store_.lease_due_deliveries(now, now + lease_.count(), 1);
        } catch (const std::exception& error) {
            log::error("webhook outbox unavailable", {{"detail", error.what()}});
        }
        if (due.empty()) {
            wait_for_work(seen_generation, session);
            continue;
        }
        wake();
        try {
            attempt(due.front(), session);
        } catch (const std::exception& error) {
            // A store that stopped answering mid-attempt: the lease lapses and the delivery is
            // attempted again later.
            log::error("webhook attempt failed",
                       {{"delivery_id", due.front().id}, {"detail", error.what()}});
        }
    }
}

void Dispatcher::wait_for_work(uint64_t seen_generation, net::OutboundSession& session) {
    for (;;) {
        session.close_expired();
        std::unique_lock lock(mutex_);
        const auto woken = [&] { return stopping_ || wake_generation_ != seen_generation; };
        if (!an_idle_sender_polls_) {
            an_idle_sender_polls_ = true;
            wakeup_.wait_for(lock, options_.poll_interval, woken);
            an_idle_sender_polls_ = false;
            return;
        }
        if (session.idle_connections() == 0) {
            wakeup_.wait(lock, woken);
            return;
        }
        // Awake only to close the connections that have been idle too long.
        if (wakeup_.wait_for(lock, keep_alive_.idle_for, woken)) return;
    }
}

std::string Dispatcher::event_body(const store::WebhookDelivery& delivery, const store::Run& run) {
    boost::json::object event{{"id", delivery.event_id},
                              {"type", delivery.event_type},
                              {"webhook_version", kWebhookVersion},
                              {"created_at", format_rfc3339_ms(delivery.event_created_at_ms)},
                              {"data", {{"run", runs::run_to_json(run)}}}};
    return boost::json::serialize(event);
}

std::string Dispatcher::body_of(const store::WebhookDelivery& delivery,
                                const store::Run& run) const {
    if (!delivery.endpoint_id && runs::is_evaluation(run.id) && options_.evaluation_result) {
        // Written as the API writes it: the fields GET /api/v1/jobs/{eval_id} answers, with an audit
        // link under the public URL (a delivery answers no request whose Host could be used).
        return compact_json(options_.evaluation_result(run));
    }
    return event_body(delivery, run);
}

void Dispatcher::attempt(const store::WebhookDelivery& delivery, net::OutboundSession& session) {
    const int64_t started = now_unix_ms();
    const int attempt_number = delivery.attempts + 1;
    net::OutboundResult result;
    std::string url = delivery.url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<std::string> secrets;
    const auto run = store_.get_run(delivery.run_id);
    if (delivery.endpoint_id) {
        const auto endpoint = store_.find_webhook_endpoint(
            delivery.organization, delivery.environment_id, *delivery.endpoint_id);
        if (endpoint) {
            // The endpoint's URL as it is now: an integrator who moved the receiver gets the retries there.
            url = endpoint->url;
            secrets = valid_secrets(endpoint->secret, endpoint->previous_secret,
                                    endpoint->previous_secret_expires_at_ms, started);
            if (endpoint->auth_token)
                headers.emplace_back("Authorization", "Bearer " + *endpoint->auth_token);
        }
    } else {
        const store::SigningSecret signing =
            signing_secret_of(store_, delivery.organization, delivery.environment_id);
        secrets = valid_secrets(signing.secret, signing.previous_secret,
                                signing.previous_secret_expires_at_ms, started);
    }
    // Nothing can be sent without the event's run or a secret to sign it: the delivery ends.
    std::string not_sent;
    if (!run) {
        not_sent = "not sent: the run no longer exists";
    } else if (secrets.empty()) {
        not_sent = "not sent: the endpoint was deleted";
    } else {
        const std::string body = body_of(delivery, *run);
        const int64_t timestamp = started / 1000;
        headers.emplace_back("Content-Type", "application/json");
        headers.emplace_back("User-Agent", "engined-webhooks/" + options_.platform_version);
        headers.emplace_back("X-Nexio-Event", delivery.event_type);
        headers.emplace_back("X-Nexio-Delivery", delivery.id);
        headers.emplace_back("X-Nexio-Timestamp", std::to_string(timestamp));
        headers.emplace_back("X-Nexio-Webhook-Version", kWebhookVersion);
        headers.emplace_back("X-Nexio-Signature", signature_header(timestamp, body, secrets));
        result = session.post({url, std::move(headers), body});
    }
    const int64_t finished = now_unix_ms();
    store::AttemptVerdict verdict{store::DeliveryStatus::failed, std::nullopt, false};
    if (not_sent.empty()) verdict = verdict_for(result, attempt_number, finished);
    const store::DeliveryAttempt record{
        delivery.id,
        attempt_number,
        started,
        finished - started,
        result.failure == net::OutboundFailure::none && not_sent.empty()
            ? std::optional<int>(result.status)
            : std::nullopt,
        not_sent.empty() ? attempt_error(result) : not_sent};
    try {
        const std::optional<int> streak = store_.record_delivery_attempt(record, verdict, finished);
        if (streak && options_.disable_after > 0 && *streak >= options_.disable_after) {
            disable_endpoint(delivery, *streak, finished);
        }
    } catch (const std::exception& error) {
        // The lease runs out and the delivery is attempted again: at least once, never lost.
        log::error("webhook attempt not recorded",
                   {{"delivery_id", delivery.id}, {"detail", error.what()}});
        return;
    }
    if (verdict.status == store::DeliveryStatus::failed) {
        log::warn("webhook delivery failed", {{"delivery_id", delivery.id},
                                              {"url", net::url_without_query(url)},
                                              {"attempts", attempt_number},
                                              {"detail", record.error}});
    }
    if (observer_) observer_(delivery, verdict.status);
}

// The endpoint failed `streak` attempts in a row, at least the configured limit: it stops
// receiving (its pending deliveries fail) until its owner turns it back on.
void Dispatcher::disable_endpoint(const store::WebhookDelivery& delivery, int streak,
                                  int64_t now_ms) {
    const std::string reason = "disabled after " + std::to_string(options_.disable_after) +
                               " consecutive failed delivery attempts";
    if (!store_.disable_webhook_endpoint(*delivery.endpoint_id, reason, now_ms))
        return;  // another sender did
    log::warn("webhook endpoint disabled", {{"endpoint_id", *delivery.endpoint_id},
                                            {"organization", delivery.organization},
                                            {"environment_id", delivery.environment_id},
                                            {"consecutive_failures", streak}});
}

store::AttemptVerdict Dispatcher::verdict_for(const net::OutboundResult& result, int attempt_number,
                                              int64_t now_ms) {
    store::AttemptVerdict verdict;
    if (result.failure == net::OutboundFailure::none && result.status >= 200 &&
        result.status < 300) {
        verdict.status = store::DeliveryStatus::delivered;
        verdict.success = true;
        return verdict;
    }
    const auto retry_index = static_cast<std::size_t>(attempt_number - 1);
    if (is_permanent(result.failure) || retry_index >= options_.retry_schedule.size()) {
        verdict.status = store::DeliveryStatus::failed;
        return verdict;
    }
    // ±20 % jitter spreads the retries of many deliveries that failed together.
    double factor = 1.0;
    {
        std::lock_guard lock(mutex_);
        factor = std::uniform_real_distribution<double>(0.8, 1.2)(jitter_);
    }
    int64_t delay = static_cast<int64_t>(
        static_cast<double>(options_.retry_schedule[retry_index].count()) * factor);
    if (const auto asked = retry_after_ms(result.retry_after, now_ms)) {
        // The receiver's Retry-After is honoured, up to a day: a receiver cannot park its
        // deliveries forever.
        delay = std::max(delay, std::min<int64_t>(*asked, kLongestRetryAfterMs));
    }
    verdict.status = store::DeliveryStatus::pending;
    verdict.next_attempt_at_ms = now_ms + delay;
    return verdict;
}

}  // namespace engined::webhooks
