#!/usr/bin/env python3
"""Plots (with gnuplot) the raw outputs of scripts/bench.sh, each joopang figure beside its same-run reference.

    python3 scripts/plot_bench.py BENCH_OUT_DIR [OUT_DIR]            (OUT_DIR: docs/img/bench)
    python3 scripts/plot_bench.py DIR [DIR...] --out OUT_DIR

Reads from each bench-out/<time>/ directory whichever of these are present (bench.sh sections):
  1  wrk-product-c64-R.txt, wrk-list-c64-R.txt vs wrk-nginx-c64-R.txt; shop-cart.json
  2  wrk-issue-c256-R.txt vs wrk-nginx-c256-R.txt, wrk-nginx-post-c256-R.txt (same POST script)
     and redis-benchmark-evalsha-R.csv (the issue script); coupon-drop-R.json vs wrk-nginx-c256-R
  4  wrk-ranking-R.txt vs wrk-nginx-rank-R.txt; ranking-bench.json
  5  wrk-join-R.txt vs wrk-nginx-join-R.txt and redis-benchmark-join.txt; waiting-room-bench.json
(R is the round). With several directories a section is taken whole from the last one holding
any of its files, so a joopang figure is never set against a reference from another run.
Writes into OUT_DIR: throughput.png (req/s, mean of rounds, one dot per round, ratio joopang ÷
reference), latency.png (p50/p90/p99/p99.9 in ms, log scale), bench-<scenario>.png (each
joopang-bench JSON's percentiles per operation) and figures.json (every number plotted).
"""
import argparse
import csv
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

# name: (section, file name, "{r}" standing for the round; kind; short label)
SERIES = {
    "product": (1, "wrk-product-c64-{r}.txt", "wrk", "joopang"),
    "list": (1, "wrk-list-c64-{r}.txt", "wrk", "joopang"),
    "nginx-c64": (1, "wrk-nginx-c64-{r}.txt", "wrk", "nginx return 200"),
    "issue": (2, "wrk-issue-c256-{r}.txt", "wrk", "joopang"),
    "coupon-drop": (2, "coupon-drop-{r}.json", "bench", "joopang (joopang-bench)"),
    "nginx-c256": (2, "wrk-nginx-c256-{r}.txt", "wrk", "nginx return 200"),
    "nginx-post-c256": (2, "wrk-nginx-post-c256-{r}.txt", "wrk", "nginx, same POST script"),
    "redis-evalsha": (2, "redis-benchmark-evalsha-{r}.csv", "redis", "redis-benchmark, issue script"),
    "ranking": (4, "wrk-ranking-{r}.txt", "wrk", "joopang"),
    "nginx-rank": (4, "wrk-nginx-rank-{r}.txt", "wrk", "nginx return 200"),
    "join": (5, "wrk-join-{r}.txt", "wrk", "joopang"),
    "nginx-join": (5, "wrk-nginx-join-{r}.txt", "wrk", "nginx, same POST script"),
    "redis-join": (5, "redis-benchmark-join.txt", "redis", "redis-benchmark, join script"),
}
BENCH_JSON = {1: "shop-cart.json", 2: "coupon-drop-{r}.json", 4: "ranking-bench.json",
              5: "waiting-room-bench.json"}
# (joopang series, reference series, x label in throughput.png)
COMPARISONS = [
    ("product", "nginx-c64", "GET product\nvs nginx (c64)"),
    ("list", "nginx-c64", "GET list page\nvs nginx (c64)"),
    ("issue", "nginx-c256", "coupon issue\nvs nginx (c256)"),
    ("issue", "nginx-post-c256", "coupon issue vs\nnginx, POST script"),
    ("issue", "redis-evalsha", "coupon issue vs\nredis-bench script"),
    ("coupon-drop", "nginx-c256", "coupon-drop bench\nvs nginx (c256)"),
    ("ranking", "nginx-rank", "GET ranking\nvs nginx (c64)"),
    ("join", "nginx-join", "queue join vs\nnginx, POST script"),
    ("join", "redis-join", "queue join vs\nredis-bench script"),
]
SCENARIO_TITLES = {"product": "GET /products/1, wrk -c64", "list": "GET list page 0, wrk -c64",
                   "issue": "coupon issue, wrk -c256", "coupon-drop": "coupon-drop (joopang-bench)",
                   "ranking": "GET ranking, wrk -c64", "join": "waiting-room join, wrk -c256"}
PLOTTED_PCTS = ["p50", "p90", "p99", "p99.9"]
COLORS = {"joopang": "#1f77b4", "nginx": "#8c8c8c", "nginx, same POST script": "#c7a252",
          "redis": "#d62728"}
LEGEND = {"#1f77b4": "joopang", "#8c8c8c": "nginx return 200, same wrk",
          "#c7a252": "nginx, same wrk POST script", "#d62728": "redis-benchmark, same Lua script"}
UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def color_of(name):
    label = SERIES[name][3]
    if label.startswith("joopang"):
        return COLORS["joopang"]
    return COLORS.get(label, COLORS["redis" if label.startswith("redis") else "nginx"])


def parse_wrk(path):
    """Requests/sec and the Latency Distribution (50/75/90/99 %) of a `wrk --latency` output."""
    rps, ms, errors = None, {}, 0
    for line in path.read_text().splitlines():
        if m := re.match(r"Requests/sec:\s+([\d.]+)", line):
            rps = float(m.group(1))
        elif m := re.match(r"\s+(50|75|90|99(?:\.9+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", line):
            ms["p" + m.group(1)] = float(m.group(2)) * UNIT_MS[m.group(3)]
        elif m := re.match(r"\s+Non-2xx or 3xx responses:\s+(\d+)", line):
            errors += int(m.group(1))
    return None if rps is None else {"rps": rps, "ms": ms, "non2xx": errors}


def parse_redis_csv(path):
    """The last data row of `redis-benchmark --csv` (rps; p50/p95/p99 where this version gives them)."""
    rows = [r for r in csv.DictReader(path.read_text().splitlines()) if r.get("rps")]
    if not rows:
        return None
    row = rows[-1]
    ms = {p: float(row[f"{p}_latency_ms"]) for p in ("p50", "p95", "p99") if row.get(f"{p}_latency_ms")}
    return {"rps": float(row["rps"]), "ms": ms}


def parse_bench_issue(path):
    """A coupon-drop JSON as a series point: its throughput and the `issue` operation's percentiles."""
    doc = json.loads(path.read_text())
    issue = doc.get("latencyMs", {}).get("issue", {})
    ms = {("p99.9" if k == "p999" else k): v for k, v in issue.items() if k in ("p50", "p90", "p99", "p999")}
    return {"rps": doc["throughputRps"], "ms": ms}


def rounds_of(directory, pattern):
    """{round: path} for a file name pattern ("{r}" = round; a name without it is round 1)."""
    if "{r}" not in pattern:
        path = directory / pattern
        return {1: path} if path.is_file() else {}
    regex = re.compile(re.escape(pattern).replace(re.escape("{r}"), r"(\d+)") + "$")
    found = {}
    for path in directory.glob(pattern.replace("{r}", "*")):
        if m := regex.match(path.name):
            found[int(m.group(1))] = path
    return dict(sorted(found.items()))


def load_section(directory, section):
    """The series and joopang-bench documents of one bench.sh section found in directory, or None."""
    series, bench = {}, []
    parsers = {"wrk": parse_wrk, "redis": parse_redis_csv, "bench": parse_bench_issue}
    for name, (sec, pattern, kind, _) in SERIES.items():
        if sec != section:
            continue
        for rnd, path in rounds_of(directory, pattern).items():
            try:
                point = parsers[kind](path)
            except (OSError, ValueError, KeyError) as e:
                point = None
                print(f"warning: {path}: {e}", file=sys.stderr)
            if point is None:
                print(f"warning: {path}: no figures in it, skipped", file=sys.stderr)
                continue
            point["file"] = str(path)
            series.setdefault(name, {})[rnd] = point
    for rnd, path in rounds_of(directory, BENCH_JSON[section]).items():
        try:
            doc = json.loads(path.read_text())
            bench.append({"round": rnd, "file": str(path), "scenario": doc["scenario"],
                          "throughputRps": doc.get("throughputRps"), "pass": doc.get("pass"),
                          "checks": [c.get("ok") for c in doc.get("checks", [])],
                          "figures": doc.get("figures", {}), "latencyMs": doc.get("latencyMs", {})})
        except (OSError, ValueError, KeyError) as e:
            print(f"warning: {path}: {e}", file=sys.stderr)
    return {"dir": str(directory), "series": series, "bench": bench} if series or bench else None


def mean_pcts(points):
    keys = {k for p in points for k in p["ms"]}
    return {k: statistics.fmean(p["ms"][k] for p in points if k in p["ms"]) for k in sorted(keys)}


def compare(series):
    """Each comparison both of whose series are present: rps per round, ratios, mean percentiles."""
    out = []
    for subject, reference, label in COMPARISONS:
        if subject not in series or reference not in series:
            continue
        mine, ref = series[subject], series[reference]
        # A reference measured once per run (no round in its name) is not paired with a round.
        paired = sorted(set(mine) & set(ref)) if "{r}" in SERIES[reference][1] else []
        entry = {"scenario": subject, "reference": reference, "label": label.replace("\n", " "),
                 "joopangRps": {r: p["rps"] for r, p in mine.items()},
                 "referenceRps": {r: p["rps"] for r, p in ref.items()},
                 "ratio": statistics.fmean(p["rps"] for p in mine.values())
                 / statistics.fmean(p["rps"] for p in ref.values()),
                 "roundRatios": {r: mine[r]["rps"] / ref[r]["rps"] for r in paired},
                 "joopangMs": mean_pcts(mine.values()), "referenceMs": mean_pcts(ref.values())}
        if "{r}" not in SERIES[reference][1]:
            entry["note"] = "reference measured once per run, after the rounds"
        out.append(entry)
    return out


def gp_str(text):
    """A gnuplot string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def run_gnuplot(script, path, width=900, height=450):
    """Renders `script` (plot commands) into the PNG `path` with gnuplot's cairo terminal."""
    head = (f"set terminal pngcairo size {width},{height} font 'DejaVu Sans,9' background '#ffffff'\n"
            f"set output {gp_str(str(path))}\nset encoding utf8\nset datafile missing 'NaN'\n")
    subprocess.run(["gnuplot"], input=head + script, text=True, check=True)


def data_block(name, rows):
    """An inline gnuplot data block: $name << EOD … EOD (fields quoted, NaN for missing)."""
    def cell(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "NaN"
        return gp_str(v) if isinstance(v, str) else repr(float(v))
    return f"${name} << EOD\n" + "\n".join(" ".join(cell(v) for v in r) for r in rows) + "\nEOD\n"


def min_mean_max(values):
    return statistics.fmean(values), min(values), max(values)


def plot_throughput(comparisons, series, path, title):
    rows = []
    for c in comparisons:
        mine = min_mean_max([p["rps"] for p in series[c["scenario"]].values()])
        ref = min_mean_max([p["rps"] for p in series[c["reference"]].values()])
        text = f"{c['ratio']:.2f}"
        if len(c["roundRatios"]) > 1:
            lo, hi = min(c["roundRatios"].values()), max(c["roundRatios"].values())
            text += f" ({lo:.2f}-{hi:.2f})"
        rows.append([c_label(c), *mine, *ref, max(mine[2], ref[2]), text])
    script = data_block("d", rows) + f"""
set title {gp_str(title)}
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set ylabel "requests / s"
set format y "%.0fk"
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set grid ytics lc rgb "#dddddd"
set key top right samplen 1.5 font ",8"
set xtics font ",7.5" nomirror
set bmargin 4.5
plot $d using ($2/1000):($3/1000):($4/1000):xtic(1) title "joopang (whiskers: min-max of rounds)" lc rgb "#1f77b4", \
     '' using ($5/1000):($6/1000):($7/1000) title "reference, same run" lc rgb "#9a9a9a", \
     '' using 0:($8/1000):9 with labels offset 0,0.8 font ",8:Bold" notitle
"""
    run_gnuplot(script, path, width=1100)


def c_label(comparison):
    return next(label for s, r, label in COMPARISONS
                if (s, r) == (comparison["scenario"], comparison["reference"]))


def plot_latency(comparisons, series, path, title):
    subjects = [s for s in dict.fromkeys(c["scenario"] for c in comparisons)
                if any(p["ms"] for p in series[s].values())]  # (wrk without --latency: none)
    if not subjects:
        return False
    ncols = min(3, len(subjects))
    nrows = math.ceil(len(subjects) / ncols)
    script = f"set multiplot layout {nrows},{ncols} title {gp_str(title)}\n"
    script += "set logscale y\nset grid lc rgb '#dddddd'\nset ylabel 'ms' font ',8'\n"
    script += "set key top left font ',7' samplen 1.5\n"
    script += "set xtics (" + ", ".join(f'"{p}" {i}' for i, p in enumerate(PLOTTED_PCTS)) + ")\n"
    for k, subject in enumerate(subjects):
        names = [subject] + [c["reference"] for c in comparisons if c["scenario"] == subject]
        rows = []
        for i, pct in enumerate(PLOTTED_PCTS):
            row = [i]
            for name in names:
                vals = [p["ms"][pct] for p in series[name].values() if pct in p["ms"]]
                row.append(statistics.fmean(vals) if vals else None)
            rows.append(row)
        script += data_block(f"s{k}", rows)
        # The x axis ends at the last percentile measured; the top third is left to the key.
        values = [v for r in rows for v in r[1:] if v]
        last = max(r[0] for r in rows if any(v for v in r[1:]))
        low = 10 ** math.floor(math.log10(min(values)))
        high = max(values) * 10 ** (0.7 * max(1.0, math.log10(max(values) / low)))
        script += f"set xrange [-0.3:{last + 0.3}]\nset yrange [{low}:{high:.4g}]\n"
        script += f"set title {gp_str(SCENARIO_TITLES.get(subject, subject))} font ',9'\n"
        plots = [f"$s{k} using 1:{j + 2} with linespoints pt 7 ps 0.6 lw 1.5 lc rgb "
                 f"'{color_of(name)}' dt {1 if j == 0 else 2} title {gp_str(SERIES[name][3])}"
                 for j, name in enumerate(names)]
        script += "plot " + ", ".join(plots) + "\n"
    script += "unset multiplot\n"
    run_gnuplot(script, path, height=int(225 * nrows + 50))
    return True


def plot_bench(docs, path, source):
    ops = list(dict.fromkeys(op for d in docs for op in d["latencyMs"]))
    rows = []
    for op in ops:
        n = sum(d["latencyMs"].get(op, {}).get("count", 0) for d in docs)
        row = [f"{op} (n={n:,})"]
        for pct in PLOTTED_PCTS:
            key = "p999" if pct == "p99.9" else pct
            vals = [d["latencyMs"][op][key] for d in docs if key in d["latencyMs"].get(op, {})]
            row.append(statistics.fmean(vals) if vals else None)
        rows.append(row)
    rps = " / ".join(f"{d['throughputRps']:,.0f}" for d in docs if d["throughputRps"] is not None)
    checks = " / ".join(f"{sum(map(bool, d['checks']))} of {len(d['checks'])}" for d in docs)
    verdict = "PASS" if all(d["pass"] for d in docs) else "FAIL"
    rounds = f", {len(docs)} rounds (mean)" if len(docs) > 1 else ""
    title = (f"joopang-bench {docs[0]['scenario']}{rounds}: {rps} req/s, checks {checks}, "
             f"{verdict}\n{source}")
    values = [v for r in rows for v in r[1:] if v]
    low = 10 ** math.floor(math.log10(min(values) / 2)) if values else 0.01
    shades = ["#9ecae1", "#4292c6", "#08519c", "#08306b"]
    plots = [f"$d using {j + 2}{':xtic(1)' if j == 0 else ''} title '{pct}' lc rgb '{shades[j]}'"
             for j, pct in enumerate(PLOTTED_PCTS)]
    script = data_block("d", rows) + f"""
set title {gp_str(title)} font ",9"
set style data histograms
set style histogram clustered gap 1
set style fill solid 1.0 noborder
set logscale y
set yrange [{low}:*]
set ylabel "ms (log)"
set grid ytics mytics lc rgb "#dddddd"
set key top left horizontal font ",8"
set xtics font ",8" nomirror
plot {", ".join(plots)}
"""
    run_gnuplot(script, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="+", help="bench-out directories (later ones win, per section)")
    ap.add_argument("--out", help="output directory (default docs/img/bench)")
    args = ap.parse_args()
    dirs, out = [Path(d) for d in args.dirs], args.out
    # The old form, DIR OUT_DIR: a last argument that is not a bench-out directory is OUT_DIR.
    if out is None and len(dirs) > 1 and not (dirs[-1] / "summary.txt").is_file():
        out = dirs.pop()
    out = Path(out or "docs/img/bench")
    if shutil.which("gnuplot") is None:
        sys.exit("plot_bench.py: gnuplot is not installed (Debian: gnuplot-nox; scripts/setup.sh)")

    sections = {}
    for directory in dirs:
        if not directory.is_dir():
            print(f"warning: {directory} is not a directory, skipped", file=sys.stderr)
            continue
        for section in BENCH_JSON:
            if (found := load_section(directory, section)) is not None:
                sections[section] = found
    if not sections:
        sys.exit("plot_bench.py: no bench.sh outputs found in " + " ".join(map(str, dirs)))
    series = {name: pts for s in sections.values() for name, pts in s["series"].items()}
    comparisons = compare(series)
    for c in comparisons:
        if not c["roundRatios"] and len(series[c["reference"]]) > 1:
            print(f"warning: {c['scenario']} and {c['reference']} share no round", file=sys.stderr)
    source = "bench-out/" + ", ".join(sorted({Path(s["dir"]).name for s in sections.values()}))

    out.mkdir(parents=True, exist_ok=True)
    written = []
    if comparisons:
        plot_throughput(comparisons, series, out / "throughput.png",
                        f"Throughput, joopang beside its same-run reference (ratio above)\n{source}")
        written.append(out / "throughput.png")
        if plot_latency(comparisons, series, out / "latency.png",
                        f"Latency percentiles in ms, mean of rounds\n{source}"):
            written.append(out / "latency.png")
    for section in sections.values():
        by_scenario = {}
        for doc in section["bench"]:
            by_scenario.setdefault(doc["scenario"], []).append(doc)
        for scenario, docs in by_scenario.items():
            path = out / f"bench-{scenario}.png"
            plot_bench(docs, path, "bench-out/" + Path(section["dir"]).name)
            written.append(path)

    figures = {"sections": {str(k): s["dir"] for k, s in sorted(sections.items())},
               "series": {name: {"label": SERIES[name][3], "section": SERIES[name][0], "rounds": pts}
                          for name, pts in series.items()},
               "comparisons": comparisons,
               "benchScenarios": [d for s in sections.values() for d in s["bench"]]}
    (out / "figures.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n")
    written.append(out / "figures.json")
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
