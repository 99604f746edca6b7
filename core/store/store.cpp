// core/store: the backend-neutral parts of the record types (status names).
#include "store/store.hpp"

#include <array>

namespace engined::store {

namespace {

constexpr std::array<std::string_view, 5> kStatusNames{"queued", "processing", "completed",
                                                       "degraded", "failed"};

}  // namespace

std::string_view to_string(RunStatus status) {
    return kStatusNames.at(static_cast<std::size_t>(status));
}

std::optional<RunStatus> parse_run_status(std::string_view text) {
    for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
        if (kStatusNames[i] == text) return static_cast<RunStatus>(i);
    }
    return std::nullopt;
}

bool is_terminal(RunStatus status) {
    return status == RunStatus::completed || status == RunStatus::degraded ||
           status == RunStatus::failed;
}

std::string_view to_string(DeliveryStatus status) {
    switch (status) {
        case DeliveryStatus::pending:
            return "pending";
        case DeliveryStatus::delivered:
            return "delivered";
        case DeliveryStatus::failed:
            return "failed";
    }
    return "pending";
}

}  // namespace engined::store
