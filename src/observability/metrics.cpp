#include "observability/metrics.hpp"

#include <cstdio>

namespace joopang::obs {

const double Histogram::kBounds[kBuckets] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                             1,      2.5,     5,      10};

void Histogram::ObserveNs(std::int64_t ns) {
    double secs = static_cast<double>(ns) / 1e9;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        if (secs <= kBounds[i]) {
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

std::string RenderLabels(const Labels& labels) {
    if (labels.empty()) return "";
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out += ',';
        out += labels[i].first;
        out += "=\"";
        for (char c : labels[i].second) {
            if (c == '\\' || c == '"') out += '\\';
            if (c == '\n') {
                out += "\\n";
                continue;
            }
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

Registry& Registry::Global() {
    static Registry registry;
    return registry;
}

Registry::Family& Registry::FamilyFor(const std::string& name, Kind kind, const std::string& help) {
    auto [it, inserted] = families_.try_emplace(name);
    if (inserted) {
        it->second.kind = kind;
        it->second.help = help;
    }
    return it->second;
}

template <class T>
T& Registry::GetOrCreate(SeriesMap<T> Family::*series,
                         Kind kind,
                         const std::string& name,
                         const std::string& help,
                         const Labels& labels) {
    std::string key = RenderLabels(labels);
    {
        std::shared_lock lock(mu_);
        auto f = families_.find(name);
        if (f != families_.end()) {
            auto& m = f->second.*series;
            if (auto it = m.find(key); it != m.end()) return *it->second.metric;
        }
    }
    std::unique_lock lock(mu_);
    auto& slot = (FamilyFor(name, kind, help).*series)[key];
    if (!slot.metric) {
        slot.labels = labels;
        slot.metric = std::make_unique<T>();
    }
    return *slot.metric;
}

Counter& Registry::GetCounter(const std::string& name,
                              const std::string& help,
                              const Labels& labels) {
    return GetOrCreate(&Family::counters, Kind::kCounter, name, help, labels);
}

Gauge& Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
    return GetOrCreate(&Family::gauges, Kind::kGauge, name, help, labels);
}

Histogram& Registry::GetHistogram(const std::string& name,
                                  const std::string& help,
                                  const Labels& labels) {
    return GetOrCreate(&Family::histograms, Kind::kHistogram, name, help, labels);
}

Gauge& Registry::GetSampledCounter(const std::string& name,
                                   const std::string& help,
                                   const Labels& labels) {
    return GetOrCreate(&Family::gauges, Kind::kCounter, name, help, labels);
}

void Registry::AddCollector(const std::string& name,
                            const std::string& help,
                            std::function<std::vector<std::pair<Labels, double>>()> fn) {
    std::unique_lock lock(mu_);
    FamilyFor(name, Kind::kGauge, help).collectors.push_back(std::move(fn));
}

void Registry::AddCounterCollector(const std::string& name,
                                   const std::string& help,
                                   std::function<std::vector<std::pair<Labels, double>>()> fn) {
    std::unique_lock lock(mu_);
    FamilyFor(name, Kind::kCounter, help).collectors.push_back(std::move(fn));
}

namespace {
std::string Num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}
std::string Bound(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}
/// Adds a label to an already-rendered label set.
std::string WithLabel(const std::string& rendered, const std::string& extra) {
    if (rendered.empty()) return "{" + extra + "}";
    return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}
}  // namespace

std::vector<FamilySnapshot> Registry::Snapshot() const {
    std::vector<FamilySnapshot> out;
    std::shared_lock lock(mu_);
    out.reserve(families_.size());
    for (const auto& [name, f] : families_) {
        FamilySnapshot& family = out.emplace_back();
        family.name = name;
        family.help = f.help;
        family.type = f.kind == Kind::kCounter ? "counter"
                      : f.kind == Kind::kGauge ? "gauge"
                                               : "histogram";
        for (const auto& [key, c] : f.counters)
            family.series.push_back({c.labels, static_cast<double>(c.metric->Value())});
        for (const auto& [key, g] : f.gauges)
            family.series.push_back({g.labels, g.metric->Value()});
        for (const auto& fn : f.collectors)
            for (auto& [labels, v] : fn()) family.series.push_back({std::move(labels), v});
        for (const auto& [key, h] : f.histograms) {
            SeriesSnapshot& series = family.series.emplace_back();
            series.labels = h.labels;
            std::uint64_t cumulative = 0;
            for (const auto& bucket : h.metric->buckets_) {
                cumulative += bucket.load(std::memory_order_relaxed);
                series.buckets.push_back(cumulative);
            }
            series.count = h.metric->Count();
            series.sum =
                static_cast<double>(h.metric->sum_ns_.load(std::memory_order_relaxed)) / 1e9;
        }
    }
    return out;
}

std::string Registry::RenderPrometheus() const {
    std::string out;
    for (const auto& family : Snapshot()) {
        const std::string& name = family.name;
        out += "# HELP " + name + " " + family.help + "\n# TYPE " + name + " " + family.type + "\n";
        for (const auto& series : family.series) {
            const std::string labels = RenderLabels(series.labels);
            if (family.type != "histogram") {
                out += name + labels + " " + Num(series.value) + "\n";
                continue;
            }
            for (std::size_t i = 0; i < Histogram::kBuckets; ++i)
                out += name + "_bucket" +
                       WithLabel(labels, "le=\"" + Bound(Histogram::kBounds[i]) + "\"") + " " +
                       std::to_string(series.buckets[i]) + "\n";
            out += name + "_bucket" + WithLabel(labels, "le=\"+Inf\"") + " " +
                   std::to_string(series.count) + "\n";
            out += name + "_sum" + labels + " " + Num(series.sum) + "\n";
            out += name + "_count" + labels + " " + std::to_string(series.count) + "\n";
        }
    }
    return out;
}

}  // namespace joopang::obs
