#pragma once
/// A bounded, thread-safe cache of values by string key, each kept at most `max_age`, the least
/// recently used evicted beyond `capacity` entries.
///
/// Invalidation is exact against loads in flight: a reader takes Generation() before it loads
/// from the database and hands it to Put(), which refuses the value if the key was invalidated
/// after that (the load may have read the row before the change). An invalidated key leaves a
/// tombstone that remembers when; when a tombstone is evicted, or everything is invalidated, the
/// cache remembers a floor instead, below which no load may be put.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/clock.hpp"

namespace joopang {

template <class V>
class BoundedCache {
  public:
    BoundedCache(std::size_t capacity, EpochMs max_age_ms)
        : capacity_(capacity < 1 ? 1 : capacity), max_age_ms_(max_age_ms) {}

    /// Take before loading a value, and give to Put().
    std::uint64_t Generation() const {
        std::lock_guard lock(mu_);
        return generation_;
    }

    /// The value for `key` if one younger than max_age is kept (it becomes the most recent).
    std::optional<V> Get(const std::string& key, EpochMs now) {
        std::lock_guard lock(mu_);
        auto it = index_.find(key);
        if (it == index_.end() || !it->second->value) return std::nullopt;
        if (now - it->second->loaded_at >= max_age_ms_) return std::nullopt;
        entries_.splice(entries_.begin(), entries_, it->second);
        return it->second->value;
    }

    /// Keeps `value`, loaded after Generation() returned `loaded_at_generation`, unless `key` was
    /// invalidated since. Returns whether it was kept.
    bool Put(const std::string& key, V value, std::uint64_t loaded_at_generation, EpochMs now) {
        std::lock_guard lock(mu_);
        auto it = index_.find(key);
        if (it != index_.end()) {
            Entry& e = *it->second;
            if (!e.value && e.generation > loaded_at_generation) return false;
            e.value = std::move(value);
            e.loaded_at = now;
            e.generation = loaded_at_generation;
            entries_.splice(entries_.begin(), entries_, it->second);
            return true;
        }
        if (loaded_at_generation < floor_) return false;
        Insert(key, Entry{key, std::move(value), now, loaded_at_generation});
        return true;
    }

    /// Drops `key`'s value; a load begun before this call cannot put it back.
    void Invalidate(const std::string& key) {
        std::lock_guard lock(mu_);
        ++generation_;
        auto it = index_.find(key);
        if (it != index_.end()) {
            it->second->value.reset();
            it->second->generation = generation_;
            return;
        }
        Insert(key, Entry{key, std::nullopt, 0, generation_});
    }

    /// Lets `key`'s value be served until `now + keep_ms` at most (sooner if it was older): for a
    /// change that may show late, so that a stream of them does not empty the cache of a hot key.
    void Shorten(const std::string& key, EpochMs now, EpochMs keep_ms) {
        std::lock_guard lock(mu_);
        auto it = index_.find(key);
        if (it != index_.end()) ShortenEntry(*it->second, now, keep_ms);
    }
    void ShortenAll(EpochMs now, EpochMs keep_ms) {
        std::lock_guard lock(mu_);
        for (auto& e : entries_) ShortenEntry(e, now, keep_ms);
    }

    /// Drops every value; no load begun before this call can put one back.
    void InvalidateAll() {
        std::lock_guard lock(mu_);
        floor_ = ++generation_;
        entries_.clear();
        index_.clear();
    }

    std::size_t size() const {
        std::lock_guard lock(mu_);
        return entries_.size();
    }
    std::uint64_t evictions() const {
        std::lock_guard lock(mu_);
        return evictions_;
    }

  private:
    struct Entry {
        std::string key;
        std::optional<V> value;  // none: a tombstone
        EpochMs loaded_at = 0;
        std::uint64_t generation = 0;  // a value's load, or a tombstone's invalidation
    };

    void ShortenEntry(Entry& e, EpochMs now, EpochMs keep_ms) const {
        if (e.value) e.loaded_at = std::min(e.loaded_at, now + keep_ms - max_age_ms_);
    }

    void Insert(const std::string& key, Entry entry) {
        entries_.push_front(std::move(entry));
        index_[key] = entries_.begin();
        while (entries_.size() > capacity_) {
            Entry& last = entries_.back();
            if (!last.value && last.generation > floor_) floor_ = last.generation;
            index_.erase(last.key);
            entries_.pop_back();
            ++evictions_;
        }
    }

    const std::size_t capacity_;
    const EpochMs max_age_ms_;
    mutable std::mutex mu_;
    std::list<Entry> entries_;  // most recently used first
    std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
    std::uint64_t generation_ = 0;  // moved by every invalidation
    std::uint64_t floor_ = 0;       // loads older than this may not be put (see above)
    std::uint64_t evictions_ = 0;
};

}  // namespace joopang
