#pragma once
/// A bounded, thread-safe cache of values by string key, each kept at most `max_age`, the least
/// recently used evicted beyond `capacity` entries.
///
/// Invalidation is exact against loads in flight: a reader takes Generation() before it loads
/// from the database and hands it to Put(), which refuses the value if the key was invalidated
/// after that (the load may have read the row before the change) — whether the key then held a
/// value or not. Each entry remembers its last invalidation; when an entry that was invalidated
/// is evicted, or everything is invalidated, the cache keeps a floor instead, below which no load
/// may be put. A shortened key likewise gives a load begun before the shortening only the
/// shortened life.

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

    /// Keeps `value`, read from the database after Generation() returned `loaded_at_generation`
    /// and no earlier than `loaded_at` (its age counts from then), unless `key` was invalidated
    /// since. Returns whether it was kept.
    bool Put(const std::string& key,
             V value,
             std::uint64_t loaded_at_generation,
             EpochMs loaded_at) {
        std::lock_guard lock(mu_);
        auto it = index_.find(key);
        if (it == index_.end()) {
            if (loaded_at_generation < floor_) return false;
            Insert(key, Entry{key});
            it = index_.find(key);
        }
        Entry& e = *it->second;
        if (loaded_at_generation < e.invalidated) return false;
        e.value = std::move(value);
        e.loaded_at = loaded_at;
        if (loaded_at_generation < e.shortened) e.loaded_at = std::min(loaded_at, e.shortened_to);
        entries_.splice(entries_.begin(), entries_, it->second);
        return true;
    }

    /// Drops `key`'s value; a load begun before this call cannot put it back.
    void Invalidate(const std::string& key) {
        std::lock_guard lock(mu_);
        ++generation_;
        auto it = index_.find(key);
        if (it == index_.end()) {
            Insert(key, Entry{key});
            it = index_.find(key);
        }
        it->second->value.reset();
        it->second->invalidated = generation_;
    }

    /// Lets `key`'s value be served until `now + keep_ms` at most (sooner if it was older), and a
    /// load begun before this call no longer: for a change that may show a little late, so that
    /// a stream of them does not empty the cache of a hot key.
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
        std::optional<V> value;         // none: invalidated, or a load is on its way
        EpochMs loaded_at = 0;          // what its age counts from
        std::uint64_t invalidated = 0;  // the generation of its last invalidation
        std::uint64_t shortened = 0;    // … of its last shortening, and the age it gave
        EpochMs shortened_to = 0;
    };

    void ShortenEntry(Entry& e, EpochMs now, EpochMs keep_ms) {
        e.shortened = ++generation_;
        e.shortened_to = now + keep_ms - max_age_ms_;
        if (e.value) e.loaded_at = std::min(e.loaded_at, e.shortened_to);
    }

    void Insert(const std::string& key, Entry entry) {
        entries_.push_front(std::move(entry));
        index_[key] = entries_.begin();
        while (entries_.size() > capacity_) {
            Entry& last = entries_.back();
            floor_ = std::max(floor_, last.invalidated);
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
    std::uint64_t generation_ = 0;  // moved by every invalidation and shortening
    std::uint64_t floor_ = 0;       // loads older than this may not be put (see above)
    std::uint64_t evictions_ = 0;
};

}  // namespace joopang
