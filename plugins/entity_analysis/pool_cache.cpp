#include "pool_cache.hpp"

#include "sdk_names.hpp"

namespace engined::entity_analysis {

std::shared_ptr<const Pool> PoolCache::find(std::string_view snapshot) {
    const std::lock_guard lock(mutex_);
    const auto found = index_.find(snapshot);
    if (found == index_.end()) {
        return nullptr;
    }
    entries_.splice(entries_.begin(), entries_, found->second);
    return found->second->second;
}

std::shared_ptr<const Pool> PoolCache::insert(const std::string& snapshot,
                                              std::shared_ptr<const Pool> pool) {
    const std::lock_guard lock(mutex_);
    if (const auto found = index_.find(snapshot); found != index_.end()) {
        entries_.splice(entries_.begin(), entries_, found->second);
        return found->second->second;
    }
    entries_.emplace_front(snapshot, std::move(pool));
    index_.emplace(entries_.front().first, entries_.begin());
    if (entries_.size() > capacity_) {
        index_.erase(entries_.back().first);
        entries_.pop_back();
    }
    return entries_.front().second;
}

std::size_t PoolCache::size() const {
    const std::lock_guard lock(mutex_);
    return entries_.size();
}

PoolCache& shared_pool_cache() {
    static PoolCache cache;
    return cache;
}

LoadedPool load_pool(const std::string& snapshot, ScoringHost& host, PoolCache& cache) {
    if (auto cached = cache.find(snapshot)) {
        return {std::move(cached), true};
    }
    std::string text;
    try {
        text = host.load_dataset("pool", snapshot);
    } catch (const DatasetMissing& missing) {
        throw RunFailure(
            "dataset_missing",
            "the carrier pool snapshot " + snapshot + " is not available: " + missing.what(),
            boost::json::array{boost::json::object{{"snapshot", snapshot}}});
    }
    auto parsed = std::make_shared<const Pool>(parse_pool(text));
    return {cache.insert(snapshot, std::move(parsed)), false};
}

}  // namespace engined::entity_analysis
