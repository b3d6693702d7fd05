#!/usr/bin/env python3
"""Draws a small line chart as SVG for docs/benchmarks.md, from a JSON spec on stdin or a file:

  {"title": "...", "x_label": "...", "y_label": "...", "log_y": true,
   "x": ["10k", "100k", "500k"],
   "series": [{"name": "ZUNIONSTORE 7 daily", "values": [16.3, 352.5, 3738]}, ...],
   "lines": [{"name": "5 ms", "value": 5}]}            (optional horizontal reference lines)

  python3 tools/bench/plot_svg.py spec.json > docs/img/chart.svg

Standard library only; a value of null leaves a gap."""

import json
import math
import sys

W, H, LEFT, RIGHT, TOP, BOTTOM = 800, 400, 80, 280, 40, 50
COLORS = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"]


def esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    spec = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
    xs, series, lines = spec["x"], spec["series"], spec.get("lines", [])
    log_y = spec.get("log_y", False)
    values = [v for s in series for v in s["values"] if v is not None] + [l["value"] for l in lines]
    lo, hi = min(values), max(values)
    if log_y:
        lo, hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
    else:
        lo, hi = 0, hi * 1.1
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def y_of(v):
        f = (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) if log_y \
            else (v - lo) / (hi - lo)
        return TOP + ph * (1 - f)

    def x_of(i):
        return LEFT + (pw * (i + 0.5) / len(xs))

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif"'
           ' font-size="12">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>' % (LEFT, esc(spec["title"]))]
    ticks = [10 ** e for e in range(int(math.log10(lo)), int(math.log10(hi)) + 1)] if log_y \
        else [lo + (hi - lo) * k / 5 for k in range(6)]
    for t in ticks:
        y = y_of(t)
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (LEFT, LEFT + pw, y, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (LEFT - 6, y + 4, "%g" % t))
    for i, x in enumerate(xs):
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x_of(i), TOP + ph + 18, esc(x)))
    out.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' % (LEFT + pw / 2, H - 8, esc(spec.get("x_label", ""))))
    out.append('<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">%s</text>'
               % (TOP + ph / 2, TOP + ph / 2, esc(spec.get("y_label", ""))))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>' % (LEFT, TOP, pw, ph))
    legend_y = TOP + 10
    for k, l in enumerate(lines):
        y = y_of(l["value"])
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#555" stroke-dasharray="6 4"/>'
                   % (LEFT, LEFT + pw, y, y))
        out.append('<text x="%d" y="%.1f">%s</text>' % (LEFT + pw + 8, y + 4, esc(l["name"])))
    for k, s in enumerate(series):
        color = COLORS[k % len(COLORS)]
        pts = [(x_of(i), y_of(v)) for i, v in enumerate(s["values"]) if v is not None]
        if len(pts) > 1:
            out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                       % (color, " ".join("%.1f,%.1f" % p for p in pts)))
        for (px, py), v in zip(pts, [v for v in s["values"] if v is not None]):
            out.append('<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>' % (px, py, color))
            out.append('<text x="%.1f" y="%.1f" fill="%s" font-size="10">%s</text>' % (px + 6, py - 6, color, "%g" % v))
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (LEFT + pw + 8, legend_y + 40, color))
        out.append('<text x="%d" y="%d">%s</text>' % (LEFT + pw + 26, legend_y + 50, esc(s["name"])))
        legend_y += 20
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
