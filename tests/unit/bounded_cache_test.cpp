// The catalog's cache: values kept at most max_age, the least recently used evicted beyond the
// capacity, and invalidation exact against loads that began before it.
#include "app/bounded_cache.hpp"

#include <gtest/gtest.h>

namespace joopang {
namespace {

std::string Key(const char* prefix, int i) {
    std::string key(prefix);
    key += std::to_string(i);
    return key;
}

TEST(BoundedCacheTest, KeepsValuesForTheirMaxAgeOnly) {
    BoundedCache<int> cache(10, 1000);
    EXPECT_FALSE(cache.Get("a", 0));
    EXPECT_TRUE(cache.Put("a", 1, cache.Generation(), 5'000));
    EXPECT_EQ(cache.Get("a", 5'999), 1);
    EXPECT_FALSE(cache.Get("a", 6'000));
    EXPECT_TRUE(cache.Put("a", 2, cache.Generation(), 6'000));  // reloaded
    EXPECT_EQ(cache.Get("a", 6'000), 2);
}

TEST(BoundedCacheTest, EvictsTheLeastRecentlyUsedBeyondItsCapacity) {
    BoundedCache<int> cache(3, 1000);
    for (int i = 0; i < 3; ++i) cache.Put(Key("k", i), i, cache.Generation(), 0);
    EXPECT_EQ(cache.Get("k0", 1), 0);  // k1 is now the least recently used
    cache.Put("k3", 3, cache.Generation(), 1);
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_EQ(cache.evictions(), 1u);
    EXPECT_FALSE(cache.Get("k1", 1));
    EXPECT_EQ(cache.Get("k0", 1), 0);
    EXPECT_EQ(cache.Get("k3", 1), 3);
    for (int i = 0; i < 1000; ++i) cache.Put(Key("n", i), i, cache.Generation(), 2);
    EXPECT_EQ(cache.size(), 3u);  // bounded whatever is put
    EXPECT_EQ(cache.evictions(), 1001u);
}

TEST(BoundedCacheTest, ALoadBegunBeforeAnInvalidationCannotPutItsValueBack) {
    BoundedCache<int> cache(10, 1000);
    cache.Put("a", 1, cache.Generation(), 0);
    const auto before = cache.Generation();  // a reader starts loading "a"…
    cache.Invalidate("a");                   // …an update lands meanwhile
    EXPECT_FALSE(cache.Get("a", 1));
    EXPECT_FALSE(cache.Put("a", 1, before, 2));  // the stale load is refused
    EXPECT_FALSE(cache.Get("a", 2));
    EXPECT_TRUE(cache.Put("a", 2, cache.Generation(), 3));  // a load begun after it is kept
    EXPECT_EQ(cache.Get("a", 3), 2);
    // A key never cached but invalidated while a load runs is refused too.
    const auto early = cache.Generation();
    cache.Invalidate("b");
    EXPECT_FALSE(cache.Put("b", 9, early, 4));
    // Other keys' loads are not affected by an invalidation of "b".
    EXPECT_TRUE(cache.Put("c", 7, early, 4));
}

TEST(BoundedCacheTest, AnOlderLoadFinishingAfterANewerOneCannotReplaceIt) {
    BoundedCache<int> cache(10, 1000);
    const auto a = cache.Generation();  // load A reads the row before the change
    cache.Invalidate("k");
    const auto b = cache.Generation();  // load B reads it after
    EXPECT_TRUE(cache.Put("k", 2, b, 1));
    EXPECT_FALSE(cache.Put("k", 1, a, 2));  // A finishes last: refused
    EXPECT_EQ(cache.Get("k", 2), 2);
    // The same once the entry has been evicted and come back.
    BoundedCache<int> small(1, 1000);
    const auto early = small.Generation();
    small.Invalidate("k");
    small.Put("k", 2, small.Generation(), 1);
    small.Put("other", 0, small.Generation(), 1);  // evicts "k"
    EXPECT_FALSE(small.Put("k", 1, early, 2));
}

TEST(BoundedCacheTest, AShortenedKeyServesItsValueBrieflyAndSoDoesALoadBegunBefore) {
    BoundedCache<int> cache(10, 1000);
    cache.Put("k", 1, cache.Generation(), 0);
    const auto before = cache.Generation();  // a load in flight
    cache.Shorten("k", 500, 100);
    EXPECT_EQ(cache.Get("k", 599), 1);
    EXPECT_FALSE(cache.Get("k", 600));
    EXPECT_TRUE(cache.Put("k", 1, before, 550));  // kept, but only until 600
    EXPECT_FALSE(cache.Get("k", 600));
    EXPECT_TRUE(cache.Put("k", 2, cache.Generation(), 600));  // begun after: a full age
    EXPECT_EQ(cache.Get("k", 1599), 2);
}

TEST(BoundedCacheTest, AnEvictedTombstoneStillRefusesOlderLoads) {
    BoundedCache<int> cache(2, 1000);
    const auto before = cache.Generation();
    cache.Invalidate("a");  // a tombstone…
    cache.Put("x", 1, cache.Generation(), 0);
    cache.Put("y", 2, cache.Generation(), 0);  // …evicted here
    EXPECT_FALSE(cache.Put("a", 1, before, 1));
    EXPECT_TRUE(cache.Put("a", 1, cache.Generation(), 1));
}

TEST(BoundedCacheTest, InvalidateAllRefusesEveryEarlierLoad) {
    BoundedCache<int> cache(10, 1000);
    cache.Put("a", 1, cache.Generation(), 0);
    const auto before = cache.Generation();
    cache.InvalidateAll();
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_FALSE(cache.Put("a", 1, before, 1));
    EXPECT_FALSE(cache.Put("z", 1, before, 1));
    EXPECT_TRUE(cache.Put("z", 1, cache.Generation(), 1));
}

}  // namespace
}  // namespace joopang
