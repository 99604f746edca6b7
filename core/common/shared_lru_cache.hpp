// A bounded map of immutable values shared by threads, evicting the least recently used entry.
// Values are handed out as std::shared_ptr: evicting an entry only drops the cache's reference,
// so a value in use is destroyed when its last user lets go, never under it.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace engined {

template <class Value>
class SharedLruCache {
public:
    // `capacity`: the most entries kept (at least one).
    explicit SharedLruCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

    // The value for `key`, made by `make()` (which returns std::shared_ptr<const Value>) when the
    // cache has none. `make` runs without the lock, so two threads missing the same key at once
    // may both make it; the first one stored wins and the other's value serves only its caller.
    // A null value from `make` (nothing to cache) is returned and not stored; what `make` throws
    // reaches the caller and stores nothing either.
    template <class Make>
    std::shared_ptr<const Value> get_or_make(const std::string& key, Make&& make) {
        if (auto found = get(key)) return found;
        std::shared_ptr<const Value> made = std::forward<Make>(make)();
        if (!made) return made;
        std::shared_ptr<const Value> evicted;  // destroyed after the lock is released
        const std::lock_guard lock(mutex_);
        if (const auto it = index_.find(key); it != index_.end()) {
            order_.splice(order_.begin(), order_, it->second);
            return it->second->second;
        }
        order_.emplace_front(key, made);
        index_.emplace(order_.front().first, order_.begin());
        if (order_.size() > capacity_) {
            evicted = std::move(order_.back().second);
            index_.erase(order_.back().first);
            order_.pop_back();
        }
        return made;
    }

    // The value for `key` if cached (now the most recently used), else null.
    std::shared_ptr<const Value> get(const std::string& key) {
        const std::lock_guard lock(mutex_);
        const auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return it->second->second;
    }

    std::size_t size() const {
        const std::lock_guard lock(mutex_);
        return order_.size();
    }

    std::size_t capacity() const noexcept { return capacity_; }

private:
    using Entry = std::pair<std::string, std::shared_ptr<const Value>>;

    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::list<Entry> order_;  // most recently used first
    std::unordered_map<std::string_view, typename std::list<Entry>::iterator>
        index_;  // keys live in order_
};

}  // namespace engined
