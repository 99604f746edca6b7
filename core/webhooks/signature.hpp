// core/webhooks — push delivery of run events (SPEC §4): endpoint management, the signature
// scheme, and the dispatcher that drains the store's outbox. Knows the store, the run view and
// the outbound client; knows nothing of the HTTP server.
// signature.hpp: secrets and the X-Nexio-Signature header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace engined::webhooks {

// A fresh "whsec_…" signing secret (32 random bytes, hex).
std::string new_secret();

// "t=<unix_s>,v1=<hex>[,v1=<hex>…]": one v1 per secret, each the HMAC of "<t>.<body>", so a
// receiver holding either secret during a rotation accepts the delivery.
std::string signature_header(int64_t unix_s, std::string_view body,
                             const std::vector<std::string>& secrets);

}  // namespace engined::webhooks
