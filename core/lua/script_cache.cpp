#include "lua/sandbox.hpp"

namespace engined::lua {

ScriptCache::ScriptCache(Limits limits, std::size_t capacity)
    : limits_(limits), capacity_(capacity) {}

Sandbox& ScriptCache::get(std::string_view source_key, std::string_view source,
                          std::string_view chunk_name) {
    if (auto found = entries_.find(source_key); found != entries_.end()) {
        return *found->second;
    }
    // Compile before evicting, so that a script that does not compile costs the cache nothing.
    auto sandbox = std::make_unique<Sandbox>(source, chunk_name, limits_);
    if (!entries_.empty() && entries_.size() >= capacity_) {
        entries_.erase(entries_.begin());
    }
    return *entries_.emplace(std::string(source_key), std::move(sandbox)).first->second;
}

}  // namespace engined::lua
