#pragma once
/// The rankings' time model (SPEC §5): each window is a run of whole buckets up to now — `1h` = 60
/// minute buckets, `24h` = 24 hourly, `3d` / `7d` = 3 / 7 daily. Each window keeps buckets of its
/// own (a "family"), so that it can retire a bucket without touching another window's.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/clock.hpp"

namespace joopang {

struct RankingWindow {
    std::string_view name;    // "1h", "24h", "3d", "7d"
    std::string_view family;  // bucket family in keys: "h1", "d1", "d3", "d7"
    EpochMs bucket_ms;
    int buckets;
    /// How long a bucket is kept: past the window, with a margin for late events and clock skew.
    EpochMs ttl_ms;

    std::int64_t BucketOf(EpochMs at) const { return at / bucket_ms; }
    /// The oldest bucket inside the window at `now`.
    std::int64_t LowestBucket(EpochMs now) const { return now / bucket_ms - buckets + 1; }
};

const std::array<RankingWindow, 4>& RankingWindows();
std::optional<RankingWindow> FindRankingWindow(std::string_view name);

/// What `score` weighs (per unit sold, per currency unit of revenue, per view) and how fast an old
/// bucket fades (its weight halves every half-life).
struct RankingWeights {
    double sales = 1.0;
    double revenue = 0.0;
    double views = 0.1;
    EpochMs half_life_ms = 24 * 3600 * 1000;
};

/// Parses "sales=1,revenue=0,views=0.1" (any subset; the others keep their defaults).
std::optional<RankingWeights> ParseRankingWeights(std::string_view text,
                                                  RankingWeights defaults = {});

}  // namespace joopang
