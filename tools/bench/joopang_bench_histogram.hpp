// Log-bucketed latency histogram for joopang-bench (HdrHistogram-style, fixed relative precision).
#pragma once

#include <cstdint>
#include <vector>

namespace joopang::bench {

/// A histogram of non-negative integer values (joopang-bench records nanoseconds) with a bounded
/// relative error: values below 2^(kSubBucketBits+1) are counted exactly; above that, each power
/// of two is split into 2^kSubBucketBits equal sub-buckets and a percentile is reported as its
/// bucket's midpoint, so it is within 1/2^(kSubBucketBits+1) (0.4 %) of the true sample. Count,
/// min, max and sum are exact. Buckets grow on demand (about 20 KB for values up to 100 ms in
/// ns). Not thread-safe: keep one per worker and Merge() them at the end.
class Histogram {
  public:
    /// log2 of the number of sub-buckets per power of two (128 -> at most 0.39 % error).
    static constexpr int kSubBucketBits = 7;

    Histogram();

    /// Adds one value.
    void Record(std::uint64_t value) { RecordN(value, 1); }
    /// Adds `count` copies of a value.
    void RecordN(std::uint64_t value, std::uint64_t count);
    /// Adds every value of another histogram.
    void Merge(const Histogram& other);
    /// Forgets every value.
    void Reset();

    std::uint64_t count() const { return count_; }
    /// Smallest value recorded (0 when empty).
    std::uint64_t min() const { return count_ ? min_ : 0; }
    /// Largest value recorded (0 when empty).
    std::uint64_t max() const { return max_; }
    /// Arithmetic mean (0 when empty).
    double mean() const;

    /// The value at percentile `p` (0..100): the smallest recorded value v such that at least p %
    /// of the values are <= v, reported as the midpoint of v's bucket and clamped to [min, max].
    /// Returns 0 when empty; p >= 100 gives max().
    std::uint64_t Percentile(double p) const;

    /// Index of the bucket holding `value` (exposed for tests).
    static std::size_t BucketIndex(std::uint64_t value);
    /// Lowest value that maps to bucket `index`.
    static std::uint64_t BucketLow(std::size_t index);
    /// Number of distinct values that map to bucket `index`.
    static std::uint64_t BucketWidth(std::size_t index);

  private:
    std::vector<std::uint64_t> buckets_;
    std::uint64_t count_ = 0;
    std::uint64_t min_ = 0;
    std::uint64_t max_ = 0;
    long double sum_ = 0;
};

}  // namespace joopang::bench
