#include "joopang_bench_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace joopang::bench {
namespace {
constexpr std::uint64_t kSub = std::uint64_t{1} << Histogram::kSubBucketBits;  // N
}  // namespace

Histogram::Histogram() = default;

// Bucket layout, with N = 2^kSubBucketBits: a value v has a "shift" s = max(0, floor(log2 v) - k)
// and a mantissa m = v >> s, which lies in [0, 2N) for s = 0 and in [N, 2N) otherwise. The index
// is s*N + m, so indices 0..2N-1 are exact values and every later run of N buckets covers one
// power of two in steps of 2^s.
std::size_t Histogram::BucketIndex(std::uint64_t value) {
    if (value < 2 * kSub) return static_cast<std::size_t>(value);
    int log2 = 63 - std::countl_zero(value);
    int shift = log2 - kSubBucketBits;
    std::uint64_t mantissa = value >> shift;
    return static_cast<std::size_t>(static_cast<std::uint64_t>(shift) * kSub + mantissa);
}

std::uint64_t Histogram::BucketLow(std::size_t index) {
    if (index < 2 * kSub) return index;
    std::uint64_t shift = index / kSub - 1;
    std::uint64_t mantissa = index - shift * kSub;
    return mantissa << shift;
}

std::uint64_t Histogram::BucketWidth(std::size_t index) {
    if (index < 2 * kSub) return 1;
    return std::uint64_t{1} << (index / kSub - 1);
}

void Histogram::RecordN(std::uint64_t value, std::uint64_t count) {
    if (count == 0) return;
    std::size_t i = BucketIndex(value);
    if (i >= buckets_.size()) buckets_.resize(i + 1 + kSub / 2, 0);
    buckets_[i] += count;
    if (count_ == 0 || value < min_) min_ = value;
    if (value > max_) max_ = value;
    count_ += count;
    sum_ += static_cast<long double>(value) * static_cast<long double>(count);
}

void Histogram::Merge(const Histogram& other) {
    if (other.count_ == 0) return;
    if (other.buckets_.size() > buckets_.size()) buckets_.resize(other.buckets_.size(), 0);
    for (std::size_t i = 0; i < other.buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
    if (count_ == 0 || other.min_ < min_) min_ = other.min_;
    max_ = std::max(max_, other.max_);
    count_ += other.count_;
    sum_ += other.sum_;
}

void Histogram::Reset() {
    buckets_.clear();
    count_ = min_ = max_ = 0;
    sum_ = 0;
}

double Histogram::mean() const {
    return count_ ? static_cast<double>(sum_ / static_cast<long double>(count_)) : 0.0;
}

std::uint64_t Histogram::Percentile(double p) const {
    if (count_ == 0) return 0;
    if (p >= 100.0) return max_;
    if (p <= 0.0) return min_;
    // Rank of the wanted sample, 1-based: the smallest r with r >= p% of count.
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen >= rank) {
            std::uint64_t mid = BucketLow(i) + (BucketWidth(i) - 1) / 2;
            return std::clamp(mid, min_, max_);
        }
    }
    return max_;
}

}  // namespace joopang::bench
