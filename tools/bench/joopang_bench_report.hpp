// The final report of a joopang-bench run: text on stdout, optionally JSON in a file.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "joopang_bench_runner.hpp"

namespace joopang::bench {

/// One verification check; any failed check makes the run FAIL (exit code 1).
struct Check {
    std::string name;    ///< what was checked
    bool ok = false;     ///< whether it held
    std::string detail;  ///< the figures behind it
};

/// A scenario-specific figure: printed as "label: value unit", stored in JSON as key: value.
struct Figure {
    std::string key;    ///< JSON key (camelCase)
    double value = 0;   ///< the figure
    std::string unit;   ///< "s", "rows/s", ...
    std::string label;  ///< human label
    int decimals = 3;   ///< digits after the point in the text output
};

/// Everything a scenario reports about its measured phase.
struct Report {
    std::string scenario;            ///< scenario name
    boost::json::object config;      ///< options of the run, echoed into the JSON
    LoadResult load;                 ///< the measured phase
    bool open_loop = false;          ///< latencies counted from the scheduled send time
    std::vector<Figure> figures;     ///< scenario figures (drain time, ...)
    std::vector<Check> checks;       ///< verification checks
    std::vector<std::string> notes;  ///< remarks printed before the verdict
    boost::json::object extra;       ///< scenario-specific JSON (time series, reconciliation)

    /// Adds a check.
    void AddCheck(std::string name, bool ok, std::string detail = {});
    /// Adds a figure.
    void AddFigure(
        std::string key, double value, std::string unit, std::string label, int decimals = 3);
    /// True when every check passed.
    bool passed() const;
};

/// The report as JSON.
boost::json::object ReportJson(const Report& report, const CommonOptions& opt);
/// Prints the report to stdout, writes it to opt.json_file if set, and returns the exit code:
/// 0 when every check passed, 1 otherwise.
int FinishReport(const Report& report, const CommonOptions& opt);

}  // namespace joopang::bench
