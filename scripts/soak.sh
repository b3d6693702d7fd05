#!/usr/bin/env bash
# Soak test (not run in CI): does joopang stay correct and flat under a long, moderate mixed load?
#
#   bash scripts/soak.sh [minutes=10]     (after a build; JOOPANG_BUILD_DIR picks another build dir;
#                                          minutes may be fractional, e.g. 0.5 for a smoke run)
#
# Starts, on free loopback ports under a temp dir: one PostgreSQL (tests/support/pg_fixture.sh), one
# redis-server with AOF, and two `joopang serve` instances sharing them. For the duration it loops
# joopang-bench, every run verifying its own scenario and alternating between the two instances:
# coupon drops (coupon-drop), shop and ranking runs (shop / ranking, alternating) and waiting-room
# runs (waiting-room), each with 16 connections. Every 10 s it samples into
# soak-out/<UTC time>/samples.csv: each instance's RSS, Redis used_memory, the stream lengths
# (coupon-issue:{*} summed, order-events:{rank}, catalog:changes), pending entries and dead letters
# (GET /api/v1/admin/streams) and each instance's HTTP p99 over the last 10 s (from /metrics).
# At the end it stops the load (runs in flight finish and verify), waits for the streams to drain,
# and checks that nothing was lost: every run PASS, the reconciliation (POST, no repair) clean with
# databaseIssued == redisReserved for every template, no dead letters. Then it reports memory
# growth (mean of the last third vs the first third of the samples after a 2-minute warm-up;
# > 10 % is flagged, not failed) and plots soak.png (gnuplot). Exit status 0 = nothing lost.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
build="${JOOPANG_BUILD_DIR:-build}"
bin="$PWD/$build/src/main/joopang"
bench="$PWD/$build/tools/bench/joopang-bench"
[ -x "$bin" ] && [ -x "$bench" ] || { echo "build first: $bin, $bench" >&2; exit 2; }
secs=$(python3 -c "import sys; print(max(10, round(float(sys.argv[1]) * 60)))" "$minutes")
rd=$(( secs / 3 < 5 ? 5 : (secs / 3 > 30 ? 30 : secs / 3) ))  # seconds per shop/ranking run
out="$PWD/soak-out/$(date -u +%Y%m%dT%H%M%SZ)"
work="$(mktemp -d /tmp/joopang-soak.XXXXXX)"
mkdir -p "$out/runs"
read -r pg_port redis_port port_a port_b < <(python3 -c 'import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
token="soak-admin-$(date +%s%N)"
secret="soak-auth-secret-$(date +%s%N)"  # >= 16 bytes, shared by both instances
urls=("http://127.0.0.1:$port_a" "http://127.0.0.1:$port_b")
jpids=(); bgpids=()

cleanup() {
  touch "$work/stop" "$work/stop-sampler" 2>/dev/null || true
  for p in "${bgpids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  for p in "${jpids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${jpids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -f "$work/redis/pid" ] && kill "$(cat "$work/redis/pid")" 2>/dev/null || true
  bash tests/support/pg_fixture.sh stop "$work/pg" "$pg_port" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$out/summary.txt"; }

# --- the helper: sampling, final verification, report and plot (python3 standard library) -------
cat >"$work/soak.py" <<'PY'
import csv, json, math, os, re, statistics, subprocess, sys, time, urllib.request
URLS, PIDS = os.environ["SOAK_URLS"].split(), os.environ["SOAK_PIDS"].split()
OUT, WORK, TOKEN, RPORT = (os.environ[k] for k in ("SOAK_OUT", "SOAK_WORK", "SOAK_TOKEN", "SOAK_REDIS_PORT"))
NAN = float("nan")
COLS = ["elapsed_s", "rss_a_mb", "rss_b_mb", "redis_used_mb", "coupon_templates", "coupon_issue_len",
        "order_events_len", "catalog_changes_len", "pending", "dead_letters", "p99_a_ms", "p99_b_ms"]

def http(url, method="GET", admin=False):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    if admin: req.add_header("Authorization", "Bearer " + TOKEN)
    with urllib.request.urlopen(req, timeout=60) as r: return r.read().decode()

def redis(*cmds):  # each command a line on redis-cli's stdin; the answers' lines
    r = subprocess.run(["redis-cli", "-p", RPORT, "--raw"], input="\n".join(cmds) + "\n",
                       capture_output=True, text=True, check=True)
    return r.stdout.splitlines()

def rss_mb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
    except OSError: pass
    return NAN

def buckets(url):  # cumulative request counts per upper bound, summed over routes (not the sampler's)
    out = {}
    for line in http(url + "/metrics").splitlines():
        if line.startswith("joopang_http_request_duration_seconds_bucket") and \
                'route="/metrics"' not in line and 'route="/api/v1/admin/streams"' not in line:
            le = float(re.search(r'le="([^"]+)"', line).group(1))
            out[le] = out.get(le, 0) + float(line.rsplit(" ", 1)[1])
    return out

def p99_ms(now, before):  # like Prometheus histogram_quantile(0.99, delta of the buckets)
    delta = [(le, now[le] - before.get(le, 0)) for le in sorted(now)]
    if not delta or delta[-1][1] <= 0: return NAN
    rank, lo, lo_count = 0.99 * delta[-1][1], 0.0, 0.0
    for le, c in delta:
        if c >= rank:
            return 1e3 * (lo if math.isinf(le) else lo + (le - lo) * (rank - lo_count) / (c - lo_count))
        lo, lo_count = le, c

def streams(): return json.loads(http(URLS[0] + "/api/v1/admin/streams", admin=True))["streams"]
def total(ss, key): return sum(s.get(key) or 0 for s in ss)
def fmt(v): return "NaN" if isinstance(v, float) and math.isnan(v) else (f"{v:.3f}" if isinstance(v, float) else v)

def sample():
    t0, prev = float(sys.argv[2]), [None] * len(URLS)
    with open(OUT + "/samples.csv", "w", newline="") as f:
        w = csv.writer(f); w.writerow(COLS); f.flush()
        while not os.path.exists(WORK + "/stop-sampler"):
            tick = time.time()
            try:
                tids = redis("SMEMBERS coupon:templates")
                lens = redis(*[f"XLEN coupon-issue:{{{t}}}" for t in tids],
                             "XLEN order-events:{rank}", "XLEN catalog:changes")
                mem = int(next(l for l in redis("INFO memory") if l.startswith("used_memory:")).split(":")[1])
                ss, p99 = streams(), []
                for i, url in enumerate(URLS):
                    b = buckets(url); p99.append(p99_ms(b, prev[i]) if prev[i] else NAN); prev[i] = b
                w.writerow([fmt(x) for x in [round(tick - t0), rss_mb(PIDS[0]), rss_mb(PIDS[1]), mem / 2**20,
                            len(tids), sum(map(int, lens[:-2])), int(lens[-2]), int(lens[-1]),
                            total(ss, "pending"), total(ss, "deadLetterLength"), *p99]]); f.flush()
            except Exception as e: print("sample failed:", e, file=sys.stderr)
            while time.time() < tick + 10 and not os.path.exists(WORK + "/stop-sampler"): time.sleep(0.5)

def verify():
    ok, deadline = True, time.time() + 180
    while True:  # drained: nothing pending or unread anywhere, issue streams trimmed to 0
        ss = streams()
        busy = [s["name"] for s in ss if (s.get("pending") or 0) or (s.get("lag") or 0)
                or (s["name"].startswith("coupon-issue:") and s.get("length"))]
        if not busy: print("streams drained"); break
        if time.time() > deadline: print("FAIL: not drained after 180 s:", busy[:10]); ok = False; break
        time.sleep(1)
    print(f"dead letters: {total(ss, 'deadLetterLength')} in dead-letter streams, "
          f"{total(ss, 'deadLettered')} ever dead-lettered")
    ok &= total(ss, "deadLetterLength") == 0 and total(ss, "deadLettered") == 0
    report = json.loads(http(URLS[0] + "/api/v1/admin/reconciliation", "POST", admin=True))
    lines = {l["templateId"]: l for l in report["templates"]}
    bad = []
    for t in sorted(lines.keys() | {int(x) for x in redis("SMEMBERS coupon:templates")}):
        l, tpl = lines.get(t), json.loads(http(f"{URLS[0]}/api/v1/coupon-templates/{t}"))
        if not l or not l["ok"] or l["differences"] or l["databaseIssued"] != l["redisReserved"] \
                or tpl["issuedQuantity"] != tpl["reservedQuantity"]:
            bad.append((t, l, {k: tpl.get(k) for k in ("status", "reservedQuantity", "issuedQuantity")}))
    print(f"reconciliation: {len(lines)} templates, {len(bad)} with differences or issued != reserved")
    for b in bad[:10]: print("  FAIL", b)
    runs = [l.split() for l in open(OUT + "/runs.txt")] if os.path.exists(OUT + "/runs.txt") else []
    for kind in sorted({r[1] for r in runs}):
        print(f"{kind}: {sum(r[1] == kind and r[0] == 'PASS' for r in runs)} PASS, "
              f"{sum(r[1] == kind and r[0] != 'PASS' for r in runs)} FAIL")
    ok &= not bad and bool(runs) and all(r[0] == "PASS" for r in runs)
    sys.exit(0 if ok else 1)

def report():
    duration, rows = float(sys.argv[2]), list(csv.DictReader(open(OUT + "/samples.csv")))
    load = [r for r in rows if float(r["elapsed_s"]) <= duration]
    steady = [r for r in load if float(r["elapsed_s"]) >= 120]
    if len(steady) < 6:
        steady = load; print("note: too short for the 2-minute warm-up; comparing all samples")
    k = max(1, len(steady) // 3)
    def mean(rs, col):
        v = [float(r[col]) for r in rs if not math.isnan(float(r[col]))]
        return statistics.fmean(v) if v else NAN
    for col, label in (("rss_a_mb", "joopang A RSS"), ("rss_b_mb", "joopang B RSS"), ("redis_used_mb", "Redis used_memory")):
        a, b = mean(steady[:k], col), mean(steady[-k:], col)
        pct = 100 * (b - a) / a if a else NAN
        print(f"{label:18} first third {a:8.1f} MB, last third {b:8.1f} MB: {b - a:+7.1f} MB ({pct:+.1f} %)"
              + ("   <-- GREW MORE THAN 10 %" if pct > 10 else ""))
    if steady:
        drops = int(steady[-1]["coupon_templates"]) - int(steady[0]["coupon_templates"])
        print(f"(Redis keeps each finished drop's keys, coupon:{{id}}:won/:meta/:seq, with no TTL: "
              f"{drops} drops between those samples account for part of its growth)")
    gp = (f"set terminal pngcairo size 1000,700 font 'DejaVu Sans,9' background '#ffffff'\n"
          f"set output '{OUT}/soak.png'\nset datafile separator ','\nset datafile columnheaders\n"
          "set datafile missing 'NaN'\nset grid\nset key outside right top noenhanced\nset xrange [0:*]\nset lmargin 10\nset rmargin 24\n"
          f"set arrow from {duration / 60}, graph 0 to {duration / 60}, graph 1 nohead dt 2  # load stops\n"
          "set multiplot layout 2,1\n"
          "set title 'joopang soak: memory' noenhanced\nset ylabel 'MB'\n"
          f"f = '{OUT}/samples.csv'\n"
          "plot f using ($1/60):2 w l lw 2 t 'joopang A RSS', f using ($1/60):3 w l lw 2 t 'joopang B RSS', "
          "f using ($1/60):4 w l lw 2 t 'Redis used_memory'\n"
          "set title 'HTTP p99 over the last 10 s (all routes)'\nset ylabel 'ms'\nset xlabel 'minutes'\n"
          "plot f using ($1/60):11 w lp pt 7 ps 0.4 t 'joopang A', f using ($1/60):12 w lp pt 7 ps 0.4 t 'joopang B'\n"
          "unset multiplot\n")
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
    print(f"plot: {OUT}/soak.png")

{"sample": sample, "verify": verify, "report": report}[sys.argv[1]]()
PY

# --- the servers ---------------------------------------------------------------------------------
log "soak: ${secs}s of load; output in $out"
bash tests/support/pg_fixture.sh start "$work/pg" "$pg_port" >/dev/null
psql "postgresql://postgres@127.0.0.1:$pg_port/postgres" -qc "CREATE DATABASE soak" >/dev/null
mkdir -p "$work/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes --save '' \
    --daemonize yes --pidfile "$work/redis/pid" --logfile "$out/redis.log"
for _ in $(seq 100); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
for i in 0 1; do  # one after the other: the first creates the schema
  name=$([ $i = 0 ] && echo a || echo b)
  "$bin" serve --listen "127.0.0.1:${urls[$i]##*:}" --data-dir "$work/data-$name" \
      --redis "redis://127.0.0.1:$redis_port" --database "postgresql://postgres@127.0.0.1:$pg_port/soak" \
      --admin-token "$token" --auth-secret "$secret" --issue-rate-limit 0 --queue-admit-per-second 200 \
      --log-level warn >"$out/joopang-$name.log" 2>&1 &
  jpids+=($!)
  for _ in $(seq 300); do curl -sf "${urls[$i]}/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "${urls[$i]}/readyz" >/dev/null || { echo "joopang $name not ready:"; tail -20 "$out/joopang-$name.log"; exit 1; }
done
log "PostgreSQL :$pg_port, Redis :$redis_port (AOF), joopang A ${urls[0]} (pid ${jpids[0]}), B ${urls[1]} (pid ${jpids[1]})"
export SOAK_URLS="${urls[*]}" SOAK_PIDS="${jpids[*]}" SOAK_OUT="$out" SOAK_WORK="$work" SOAK_TOKEN="$token" \
       SOAK_REDIS_PORT="$redis_port"

# --- the load: three loops of verified joopang-bench runs ---------------------------------------
bench_run() {  # kind, run number, url, flags...: one run; its verdict goes to runs.txt
  local kind=$1 n=$2 url=$3 rc=0; shift 3
  local f="$out/runs/$kind-$n.txt"
  "$bench" "$kind" --url "$url" --admin-token "$token" --auth-secret "$secret" -c 16 -q "$@" >"$f" 2>&1 || rc=$?
  if [ "$rc" = 0 ] && grep -q '^RESULT: PASS' "$f"; then echo "PASS $kind ${url##*:} $f" >>"$out/runs.txt"
  else echo "FAIL $kind ${url##*:} rc=$rc $f" | tee -a "$out/runs.txt"; fi
}
loop() {  # function, pause: call it with run numbers 0, 1, ... until the stop file appears
  local n=0
  while [ ! -e "$work/stop" ]; do "$1" "$n"; n=$((n + 1)); sleep "$2"; done
}
coupons() { bench_run coupon-drop "$1" "${urls[$(($1 % 2))]}" --users 20000 --coupons 2000 --requests 6000 --rate 600; }
shop() {
  if (($1 % 2 == 0)); then
    bench_run ranking "$1" "${urls[$(($1 / 2 % 2))]}" --writers 8 --products 20 --users 100 --duration "$rd" --rate 150
  else
    bench_run shop "$1" "${urls[$(($1 / 2 % 2))]}" -n 0 -d "$rd" --rate 100 --products 20 --users 64 \
        --stock 1000000 --price 10.00 --balance 100000000.00
  fi
}
queue() { bench_run waiting-room "$1" "${urls[$(($1 % 2))]}" --users 400 --admit-per-second 200; }

t0=$(date +%s.%N)
python3 "$work/soak.py" sample "$t0" 2>>"$out/sampler.log" & bgpids+=($!)
loop coupons 1 & bgpids+=($!)
loop shop 1 & bgpids+=($!)
loop queue 5 & bgpids+=($!)
log "load running: coupon-drop, shop/ranking (${rd}s runs), waiting-room; samples every 10 s"
sleep "$secs" & bgpids+=($!); wait $!  # (wait: a signal is handled at once)
log "stopping the load (runs in flight finish and verify)"
touch "$work/stop"
wait "${bgpids[@]:1}" || true

# --- verification, memory, plot ------------------------------------------------------------------
status=0
for p in "${jpids[@]}"; do kill -0 "$p" 2>/dev/null || { log "FAIL: joopang pid $p died"; status=1; }; done
python3 "$work/soak.py" verify 2>&1 | tee -a "$out/summary.txt" || status=1
sleep 10  # one more sample of the drained state
touch "$work/stop-sampler"; wait "${bgpids[0]}" || true
bgpids=()  # all finished
python3 "$work/soak.py" report "$secs" 2>&1 | tee -a "$out/summary.txt" || true
log "samples: $out/samples.csv; runs: $out/runs/"
if [ "$status" = 0 ]; then log "SOAK: PASS (nothing lost, every run passed)"; else log "SOAK: FAIL"; fi
exit "$status"
