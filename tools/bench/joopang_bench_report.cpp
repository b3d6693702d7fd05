#include "joopang_bench_report.hpp"

#include <boost/json/serialize.hpp>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace joopang::bench {
namespace json = boost::json;

namespace {

constexpr std::pair<const char*, double> kPercentiles[] = {
    {"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p99.9", 99.9}};

double Ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

/// Rounds to 4 decimals so the JSON stays readable; whole numbers become JSON integers.
json::value Round4(double v) {
    double r = std::round(v * 1e4) / 1e4;
    if (r == std::floor(r) && std::abs(r) < 9e15) return json::value(static_cast<std::int64_t>(r));
    return json::value(r);
}

std::string Fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

void Report::AddCheck(std::string name, bool ok, std::string detail) {
    checks.push_back({std::move(name), ok, std::move(detail)});
}

void Report::AddFigure(
    std::string key, double value, std::string unit, std::string label, int decimals) {
    figures.push_back({std::move(key), value, std::move(unit), std::move(label), decimals});
}

bool Report::passed() const {
    for (const auto& c : checks)
        if (!c.ok) return false;
    return true;
}

json::object ReportJson(const Report& r, const CommonOptions& opt) {
    json::object o;
    o["scenario"] = r.scenario;
    o["url"] = opt.url;
    o["connections"] = opt.connections;
    o["threads"] = opt.threads;
    o["openLoopRate"] = Round4(opt.rate);
    o["config"] = r.config;
    double secs = r.load.elapsed_s();
    o["elapsedSec"] = Round4(secs);
    o["requests"] = r.load.total.requests;
    o["throughputRps"] = Round4(secs > 0 ? static_cast<double>(r.load.total.requests) / secs : 0);
    o["iterations"] = r.load.iterations;
    o["iterationsPerSec"] = Round4(secs > 0 ? static_cast<double>(r.load.iterations) / secs : 0);
    o["connects"] = r.load.connects;
    o["latencyFromScheduledTime"] = r.open_loop;
    json::object lat, status;
    for (const auto& s : r.load.total.steps) {
        json::object l;
        l["count"] = s.latency.count();
        l["min"] = Round4(Ms(s.latency.min()));
        l["mean"] = Round4(s.latency.mean() / 1e6);
        l["p50"] = Round4(Ms(s.latency.Percentile(50)));
        l["p90"] = Round4(Ms(s.latency.Percentile(90)));
        l["p99"] = Round4(Ms(s.latency.Percentile(99)));
        l["p999"] = Round4(Ms(s.latency.Percentile(99.9)));
        l["max"] = Round4(Ms(s.latency.max()));
        lat[s.name] = std::move(l);
        if (!s.outcomes.empty() || s.errors) {
            json::object st;
            for (const auto& [k, n] : s.outcomes) st[k] = n;
            if (s.errors) st["transportError"] = s.errors;
            status[s.name] = std::move(st);
        }
    }
    o["latencyMs"] = std::move(lat);
    o["statusCounts"] = std::move(status);
    json::object errs;
    for (const auto& [k, n] : r.load.total.errors) errs[k] = n;
    o["transportErrors"] = std::move(errs);
    json::object figs;
    for (const auto& f : r.figures) figs[f.key] = Round4(f.value);
    o["figures"] = std::move(figs);
    json::array checks;
    for (const auto& c : r.checks)
        checks.push_back(json::object{{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    o["checks"] = std::move(checks);
    json::array notes;
    for (const auto& n : r.notes) notes.push_back(json::value(n));
    o["notes"] = std::move(notes);
    for (const auto& [k, v] : r.extra) o[k] = v;
    o["pass"] = r.passed();
    return o;
}

int FinishReport(const Report& r, const CommonOptions& opt) {
    std::FILE* out = stdout;
    double secs = r.load.elapsed_s();
    auto per_sec = [&](std::uint64_t n) { return secs > 0 ? static_cast<double>(n) / secs : 0.0; };
    std::fprintf(
        out, "\n== joopang-bench %s: %s, %d connections, %d thread(s), %s\n", r.scenario.c_str(),
        opt.url.c_str(), opt.connections, opt.threads,
        opt.rate > 0 ? ("open loop at " + Fmt(opt.rate) + " it/s").c_str() : "closed loop");
    std::fprintf(out,
                 "requests    %" PRIu64 " in %.3f s = %.0f req/s   (iterations %" PRIu64
                 " = %.0f/s; TCP connects %" PRIu64 ")\n",
                 r.load.total.requests, secs, per_sec(r.load.total.requests), r.load.iterations,
                 per_sec(r.load.iterations), r.load.connects);
    std::fprintf(out, "latency ms%s\n",
                 r.open_loop ? " (open loop: from the scheduled send time)" : "");
    std::fprintf(out, "  %-22s %9s %9s %9s %9s %9s %9s %9s\n", "step", "count", "p50", "p90", "p99",
                 "p99.9", "max", "mean");
    for (const auto& s : r.load.total.steps) {
        const auto& h = s.latency;
        std::fprintf(out, "  %-22s %9" PRIu64, s.name.c_str(), h.count());
        for (const auto& [name, p] : kPercentiles) std::fprintf(out, " %9.3f", Ms(h.Percentile(p)));
        std::fprintf(out, " %9.3f %9.3f\n", Ms(h.max()), h.mean() / 1e6);
    }
    std::fprintf(out, "status counts\n");
    for (const auto& s : r.load.total.steps) {
        if (s.outcomes.empty() && !s.errors) continue;
        std::fprintf(out, "  %-22s", s.name.c_str());
        const char* sep = "";
        for (const auto& [k, n] : s.outcomes) {
            std::fprintf(out, "%s%s: %" PRIu64, sep, k.c_str(), n);
            sep = " | ";
        }
        if (s.errors) std::fprintf(out, "%stransport error: %" PRIu64, sep, s.errors);
        std::fprintf(out, "\n");
    }
    if (r.load.total.errors.empty()) {
        std::fprintf(out, "transport errors: none\n");
    } else {
        std::fprintf(out, "transport errors\n");
        for (const auto& [k, n] : r.load.total.errors)
            std::fprintf(out, "  %8" PRIu64 "  %s\n", n, k.c_str());
    }
    if (r.load.worker_exceptions)
        std::fprintf(out, "workers died with an exception: %" PRIu64 "\n",
                     r.load.worker_exceptions);
    if (!r.figures.empty()) {
        std::fprintf(out, "figures\n");
        for (const auto& f : r.figures)
            std::fprintf(out, "  %-44s %.*f %s\n", (f.label + ":").c_str(), f.decimals, f.value,
                         f.unit.c_str());
    }
    for (const auto& n : r.notes) std::fprintf(out, "note: %s\n", n.c_str());
    if (!r.checks.empty()) {
        std::fprintf(out, "verification\n");
        for (const auto& c : r.checks)
            std::fprintf(out, "  [%s] %s%s%s\n", c.ok ? "PASS" : "FAIL", c.name.c_str(),
                         c.detail.empty() ? "" : ": ", c.detail.c_str());
    }
    bool pass = r.passed();
    std::fprintf(out, "RESULT: %s\n", pass ? "PASS" : "FAIL");
    std::fflush(out);
    if (!opt.json_file.empty()) {
        std::ofstream f(opt.json_file);
        f << json::serialize(ReportJson(r, opt)) << "\n";
        if (!f) {
            std::fprintf(stderr, "cannot write %s\n", opt.json_file.c_str());
            return 1;
        }
    }
    return pass ? 0 : 1;
}

}  // namespace joopang::bench
