#include "auth/key_cache.hpp"

#include <stdexcept>

namespace engined::auth {

KeyCache::KeyCache(std::chrono::milliseconds ttl, std::size_t capacity, Clock clock)
    : ttl_(ttl), capacity_(capacity), clock_(std::move(clock)) {
    if (ttl_.count() <= 0 || capacity_ == 0) {
        throw std::invalid_argument("a key cache needs a positive time-to-live and capacity");
    }
}

std::optional<Principal> KeyCache::find(const std::string& key_hash, uint64_t revocations) const {
    const auto now = clock_();
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(key_hash);
    if (found == entries_.end() || found->second.expires_at <= now ||
        found->second.revocations != revocations) {
        return std::nullopt;
    }
    return found->second.caller;
}

void KeyCache::remember(const std::string& key_hash, const Principal& caller,
                        uint64_t revocations) {
    const auto now = clock_();
    std::lock_guard lock(mutex_);
    if (entries_.size() >= capacity_ && !entries_.contains(key_hash)) {
        std::erase_if(entries_,
                      [now](const auto& entry) { return entry.second.expires_at <= now; });
        if (entries_.size() >= capacity_) entries_.clear();
    }
    entries_.insert_or_assign(key_hash, Entry{caller, now + ttl_, revocations});
}

void KeyCache::clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
}

std::size_t KeyCache::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace engined::auth
