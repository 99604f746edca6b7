// Parsed carrier pools by snapshot id, shared by every run of the process. A snapshot id is the
// pool's content hash, so an entry never goes stale; the cache only bounds how many it keeps
// (least recently used goes first). Thread-safe: the host calls the plugin from several workers.
#pragma once

#include "carrier.hpp"
#include "scoring_host.hpp"

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace engined::entity_analysis {

class PoolCache {
public:
    static constexpr std::size_t kDefaultCapacity = 8;

    explicit PoolCache(std::size_t capacity = kDefaultCapacity)
        : capacity_(capacity == 0 ? 1 : capacity) {}

    // The pool cached for `snapshot` (now the most recently used), or null.
    std::shared_ptr<const Pool> find(std::string_view snapshot);

    // Caches `pool` for `snapshot` unless another run cached it first, and returns the cached one.
    std::shared_ptr<const Pool> insert(const std::string& snapshot,
                                       std::shared_ptr<const Pool> pool);

    std::size_t size() const;

private:
    using Entry = std::pair<std::string, std::shared_ptr<const Pool>>;

    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::list<Entry> entries_;  // most recently used first
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // keys view entries_
};

// The cache the plugin module uses for every run.
PoolCache& shared_pool_cache();

struct LoadedPool {
    std::shared_ptr<const Pool> pool;
    bool cache_hit = false;
};

// The pool of `snapshot`: from `cache`, else read through host.load_dataset("pool", snapshot),
// parsed and cached. Two runs that miss at once both parse; the first to finish is kept.
// Throws RunFailure: dataset_missing (the host has no such pool), dataset_invalid.
LoadedPool load_pool(const std::string& snapshot, ScoringHost& host, PoolCache& cache);

}  // namespace engined::entity_analysis
