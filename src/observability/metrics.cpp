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
T& Registry::GetOrCreate(std::map<std::string, std::unique_ptr<T>> Family::*series,
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
            if (auto it = m.find(key); it != m.end()) return *it->second;
        }
    }
    std::unique_lock lock(mu_);
    auto& slot = (FamilyFor(name, kind, help).*series)[key];
    if (!slot) slot = std::make_unique<T>();
    return *slot;
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

void Registry::AddCollector(const std::string& name,
                            const std::string& help,
                            std::function<std::vector<std::pair<Labels, double>>()> fn) {
    std::unique_lock lock(mu_);
    FamilyFor(name, Kind::kGauge, help).collectors.push_back(std::move(fn));
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

std::string Registry::RenderPrometheus() const {
    std::string out;
    std::shared_lock lock(mu_);
    for (const auto& [name, f] : families_) {
        const char* type = f.kind == Kind::kCounter ? "counter"
                           : f.kind == Kind::kGauge ? "gauge"
                                                    : "histogram";
        out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + type + "\n";
        for (const auto& [labels, c] : f.counters)
            out += name + labels + " " + std::to_string(c->Value()) + "\n";
        for (const auto& [labels, g] : f.gauges)
            out += name + labels + " " + Num(g->Value()) + "\n";
        for (const auto& fn : f.collectors)
            for (const auto& [labels, v] : fn())
                out += name + RenderLabels(labels) + " " + Num(v) + "\n";
        for (const auto& [labels, h] : f.histograms) {
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < Histogram::kBuckets; ++i) {
                cumulative += h->buckets_[i].load(std::memory_order_relaxed);
                out += name + "_bucket" +
                       WithLabel(labels, "le=\"" + Bound(Histogram::kBounds[i]) + "\"") + " " +
                       std::to_string(cumulative) + "\n";
            }
            out += name + "_bucket" + WithLabel(labels, "le=\"+Inf\"") + " " +
                   std::to_string(h->Count()) + "\n";
            out += name + "_sum" + labels + " " +
                   Num(static_cast<double>(h->sum_ns_.load(std::memory_order_relaxed)) / 1e9) +
                   "\n";
            out += name + "_count" + labels + " " + std::to_string(h->Count()) + "\n";
        }
    }
    return out;
}

}  // namespace joopang::obs
