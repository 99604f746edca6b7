#include "auth/principal.hpp"

#include "common/api_error.hpp"

namespace engined::auth {

void require_live_key(const Principal& caller, const std::string& action) {
    if (caller.environment != "live") {
        throw ApiError::forbidden(action + " needs a live key (nx_live_…); this key belongs to '" +
                                  caller.environment + "'");
    }
}

}  // namespace engined::auth
