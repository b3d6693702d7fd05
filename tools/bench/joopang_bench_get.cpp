// Scenario `get`: GET one path for a fixed time, a baseline to compare with wrk.
#include <boost/beast/http/verb.hpp>

#include "joopang_bench_report.hpp"
#include "joopang_bench_scenarios.hpp"

namespace joopang::bench {
namespace bhttp = boost::beast::http;
using boost::asio::awaitable;

awaitable<int> RunGet(Env& env, GetOptions o) {
    if (o.path.empty() || o.path.front() != '/') o.path.insert(0, "/");
    // One probe first, so a wrong URL fails fast instead of producing a table of errors.
    auto probe = co_await env.Call(bhttp::verb::get, o.path);
    if (probe.status == 0) {
        std::fprintf(stderr, "cannot reach %s%s: %s\n", env.opt.url.c_str(), o.path.c_str(),
                     probe.ErrorText().c_str());
        co_return kExitSetupFailed;
    }
    env.control_conn.Close();

    LoadSpec spec;
    spec.phase = "get";
    spec.steps = {"get"};
    spec.iterations = o.requests;
    spec.duration_s = o.requests ? 0 : o.duration_s;
    spec.connections = env.opt.connections;
    spec.rate = env.opt.rate;
    const std::string path = o.path;
    Report report;
    report.scenario = "get";
    report.open_loop = env.opt.rate > 0;
    report.config = {{"path", path}, {"durationSec", spec.duration_s}, {"requests", o.requests}};
    report.load = co_await RunLoad(env, spec, [&path](Worker& w, std::uint64_t) -> awaitable<void> {
        co_await w.Send(0, bhttp::verb::get, path);
    });
    const auto& st = report.load.total.steps[0];
    std::uint64_t ok = 0;
    for (const auto& [k, n] : st.outcomes)
        if (!k.empty() && k[0] == '2') ok += n;
    report.AddCheck("no transport errors", st.errors == 0, std::to_string(st.errors) + " errors");
    report.AddCheck("every response 2xx", ok == st.responses,
                    std::to_string(ok) + " of " + std::to_string(st.responses));
    if (env.opt.rate > 0)
        report.notes.push_back("open loop: compare with wrk2 (-R), not with wrk (closed loop)");
    else
        report.notes.push_back("compare with: wrk -t1 -c" + std::to_string(env.opt.connections) +
                               " -d" + std::to_string(static_cast<int>(o.duration_s)) +
                               "s --latency " + env.opt.url + path +
                               " (same session, interleaved runs)");
    co_return FinishReport(report, env.opt);
}

}  // namespace joopang::bench
