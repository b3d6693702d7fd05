#pragma once
/// A small metrics registry rendered in the Prometheus text format (version 0.0.4).
///
/// Series are created on first use and live as long as the registry; the returned references stay
/// valid, so hot paths look a series up once and then only touch atomics. Lookups take a shared
/// lock; increments are lock-free. Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace joopang::obs {

/// Label pairs in a fixed order, e.g. {{"route","/api/v1/users"},{"status","201"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
  public:
    void Add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
  public:
    void Set(double v) { value_.store(v, std::memory_order_relaxed); }
    double Value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

/// Latency histogram in seconds with fixed buckets from 100 µs to 10 s.
class Histogram {
  public:
    static constexpr std::size_t kBuckets = 16;
    static const double kBounds[kBuckets];
    void ObserveNs(std::int64_t ns);
    std::uint64_t Count() const { return count_.load(std::memory_order_relaxed); }

  private:
    friend class Registry;
    std::atomic<std::uint64_t> buckets_[kBuckets] = {};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::int64_t> sum_ns_{0};
};

/// One series as read at one moment: a counter's or gauge's value, or a histogram's buckets.
struct SeriesSnapshot {
    Labels labels;
    double value = 0;                    // counters and gauges
    std::vector<std::uint64_t> buckets;  // histograms: cumulative count ≤ each of kBounds
    std::uint64_t count = 0;             // histograms: observations (the +Inf bucket)
    double sum = 0;                      // histograms: seconds observed
};

struct FamilySnapshot {
    std::string name;
    std::string help;
    std::string type;  // "counter", "gauge" or "histogram"
    std::vector<SeriesSnapshot> series;
};

class Registry {
  public:
    Counter& GetCounter(const std::string& name,
                        const std::string& help,
                        const Labels& labels = {});
    Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
    Histogram& GetHistogram(const std::string& name,
                            const std::string& help,
                            const Labels& labels = {});
    /// A counter kept elsewhere and copied in (a running total Redis keeps, say): it is set,
    /// not added to, and exposed as a counter, so it only goes down when its source restarts.
    Gauge& GetSampledCounter(const std::string& name,
                             const std::string& help,
                             const Labels& labels = {});
    /// A gauge family computed when scraped (stream lengths, pool sizes…). `fn` runs on the
    /// scraping thread and must be quick.
    void AddCollector(const std::string& name,
                      const std::string& help,
                      std::function<std::vector<std::pair<Labels, double>>()> fn);
    /// The same for a running total kept elsewhere: the family is exposed as a counter.
    void AddCounterCollector(const std::string& name,
                             const std::string& help,
                             std::function<std::vector<std::pair<Labels, double>>()> fn);

    /// Every family (by name) and series as they read now; collectors run on the calling thread.
    std::vector<FamilySnapshot> Snapshot() const;
    /// The whole registry in Prometheus text format.
    std::string RenderPrometheus() const;

    /// The process-wide registry.
    static Registry& Global();

  private:
    enum class Kind { kCounter, kGauge, kHistogram };
    /// A series with its labels, keyed by the labels rendered.
    template <class T>
    struct Series {
        Labels labels;
        std::unique_ptr<T> metric;
    };
    template <class T>
    using SeriesMap = std::map<std::string, Series<T>>;
    struct Family {
        Kind kind;
        std::string help;
        SeriesMap<Counter> counters;
        SeriesMap<Gauge> gauges;
        SeriesMap<Histogram> histograms;
        std::vector<std::function<std::vector<std::pair<Labels, double>>()>> collectors;
    };
    Family& FamilyFor(const std::string& name, Kind kind, const std::string& help);
    /// The series of `labels` in family `name`, created on first use (one code path for every
    /// kind of series).
    template <class T>
    T& GetOrCreate(SeriesMap<T> Family::*series,
                   Kind kind,
                   const std::string& name,
                   const std::string& help,
                   const Labels& labels);

    mutable std::shared_mutex mu_;
    std::map<std::string, Family> families_;
};

/// Renders labels as `{a="1",b="x"}` with Prometheus escaping ("" when empty).
std::string RenderLabels(const Labels& labels);

}  // namespace joopang::obs
