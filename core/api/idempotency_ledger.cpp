#include "api/idempotency_ledger.hpp"

#include "common/log.hpp"
#include "common/time.hpp"

#include <future>

namespace engined::api {

std::optional<http::IdempotencyLedger::Stored> StoreIdempotencyLedger::find(
    const auth::Principal& caller, const std::string& key) {
    const auto record =
        store_.find_idempotency(caller.organization, caller.environment_id, key, now_unix_ms());
    if (!record) return std::nullopt;
    http::Response response = http::Response::json(record->status, record->response_body);
    if (!record->location.empty()) response.headers.emplace_back("Location", record->location);
    return Stored{record->request_hash, std::move(response)};
}

void StoreIdempotencyLedger::remember(const auth::Principal& caller,
                                      const http::IdempotencyToken& token,
                                      const http::Response& response) {
    std::string location;
    for (const auto& [name, value] : response.headers) {
        if (name == "Location") location = value;
    }
    // Stored before the answer leaves, so that a retry right after it is already replayed.
    std::promise<void> stored;
    store_.remember_idempotency(
        {caller.organization, caller.environment_id, token.key, token.request_hash, response.status,
         response.replay_body.value_or(response.body), location, now_unix_ms()},
        [&stored](std::exception_ptr error) {
            if (error) {
                stored.set_exception(error);
            } else {
                stored.set_value();
            }
        });
    try {
        stored.get_future().get();
    } catch (const store::IdempotencyKeyTaken&) {
        // A concurrent request with the key answered first; its answer is the one kept.
    } catch (const std::exception& failure) {
        log::warn("idempotency record not stored",
                  {{"key", token.key}, {"detail", failure.what()}});
    }
}

}  // namespace engined::api
