// The router's idempotency ledger kept in the store: answers to POSTs with an Idempotency-Key,
// per organisation and environment, for 24 hours.
#pragma once

#include "http/router.hpp"
#include "store/store.hpp"

namespace engined::api {

// remember() waits for the store's commit: call it only from threads that may block (the HTTP
// threads), never from the store's writer thread.
class StoreIdempotencyLedger : public http::IdempotencyLedger {
public:
    explicit StoreIdempotencyLedger(store::Store& store) : store_(store) {}

    std::optional<Stored> find(const auth::Principal& caller, const std::string& key) override;
    void remember(const auth::Principal& caller, const http::IdempotencyToken& token,
                  const http::Response& response) override;

private:
    store::Store& store_;
};

}  // namespace engined::api
