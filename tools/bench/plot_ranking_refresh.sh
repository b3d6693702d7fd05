#!/usr/bin/env bash
# Draws docs/img/ranking_refresh.svg from the figures in docs/benchmarks.md §7 (measured with
# zunion_study.sh and ranking_retire_study.sh, 2026-12-05): what one union blocks Redis for,
# against the retire steps and the whole retire's Redis CPU, by catalog size.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 tools/bench/plot_svg.py > docs/img/ranking_refresh.svg <<'JSON'
{"title": "Blocking Redis: one union vs the retire steps (ms, log scale)",
 "x_label": "products per bucket", "y_label": "ms", "log_y": true,
 "x": ["10,000", "100,000", "500,000"],
 "series": [
   {"name": "ZUNIONSTORE 24 hourly (one call)", "values": [35.6, 715.5, 8206]},
   {"name": "ZUNIONSTORE 7 daily (one call)", "values": [15.2, 316.5, 2800.7]},
   {"name": "retire: whole bucket, Redis CPU", "values": [197.4, 2453.6, 15214.9]},
   {"name": "retire step, slowest (<=)", "values": [2.113, 4.227, 8.454]},
   {"name": "retire step, 99th pct (<=)", "values": [1.056, 1.056, 2.113]}],
 "lines": [{"name": "5 ms goal", "value": 5}]}
JSON
