// A bounded map of values a node looked up in its store a moment ago, each answering for a
// time-to-live and only at the generation it was stored under: what changes through this node
// bumps the generation (every older entry misses at once), what changes elsewhere (another node,
// enginectl) is seen once the entry's time-to-live passed. Knows a clock, not the store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

namespace engined {

// What a cache reads the time from (tests move it by hand).
using CacheClock = std::function<std::chrono::steady_clock::time_point()>;

template <class Value>
class TtlCache {
public:
    using Clock = CacheClock;

    // An entry answers for `ttl` after it was stored, then its owner asks the store again. At
    // most `capacity` entries; when full, the expired ones go, and if none had, every one (a miss
    // costs one lookup).
    TtlCache(
        std::chrono::milliseconds ttl, std::size_t capacity,
        Clock clock = [] { return std::chrono::steady_clock::now(); })
        : ttl_(ttl), capacity_(capacity), clock_(std::move(clock)) {
        if (ttl_.count() <= 0 || capacity_ == 0) {
            throw std::invalid_argument("a cache needs a positive time-to-live and capacity");
        }
    }

    // The value stored under `key` less than the time-to-live ago, at the same `generation`.
    // The owner reads the generation before the lookup whose result it remembers, so a change
    // committed during that lookup leaves an entry that misses.
    std::optional<Value> find(const std::string& key, uint64_t generation) const {
        const auto now = clock_();
        const std::lock_guard lock(mutex_);
        const auto found = entries_.find(key);
        if (found == entries_.end() || found->second.expires_at <= now ||
            found->second.generation != generation) {
            return std::nullopt;
        }
        return found->second.value;
    }

    void remember(const std::string& key, Value value, uint64_t generation) {
        const auto now = clock_();
        const std::lock_guard lock(mutex_);
        if (entries_.size() >= capacity_ && !entries_.contains(key)) {
            std::erase_if(entries_,
                          [now](const auto& entry) { return entry.second.expires_at <= now; });
            if (entries_.size() >= capacity_) entries_.clear();
        }
        entries_.insert_or_assign(key, Entry{std::move(value), now + ttl_, generation});
    }

    void clear() {
        const std::lock_guard lock(mutex_);
        entries_.clear();
    }

    std::size_t size() const {
        const std::lock_guard lock(mutex_);
        return entries_.size();
    }

private:
    struct Entry {
        Value value;
        std::chrono::steady_clock::time_point expires_at;
        uint64_t generation = 0;
    };

    const std::chrono::milliseconds ttl_;
    const std::size_t capacity_;
    const Clock clock_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace engined
