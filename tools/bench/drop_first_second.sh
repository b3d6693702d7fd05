#!/usr/bin/env bash
# What the first second of a coupon drop costs, and who pays: one `wrk -d1s` right after a fresh
# template of Q coupons (default 10,000, users among 50,000) is created, placed as scripts/bench.sh
# places it (the service on the last CPU, its redis-server and wrk on CPU 0). Prints wrk's p50/p99,
# Redis's `INFO commandstats` for that second (commands a script calls are counted under their own
# names too, inside EVALSHA's time) and every thread's CPU and runnable-but-waiting time from
# /proc/<tid>/schedstat. docs/benchmarks.md §2, "The first second of a drop", has its figures.
#   bash tools/bench/drop_first_second.sh [joopang binary]     (needs wrk, redis-cli; port 18083)
# EXTRA adds flags to `joopang serve` (e.g. EXTRA="--coupon-persister false").
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/src/main/joopang}
last=$(($(nproc) - 1))
data=$(mktemp -d /tmp/joopang-first-second.XXXXXX)
# shellcheck disable=SC2086
taskset -c "$last" "$bin" serve --listen 127.0.0.1:18083 --admin-token t --issue-rate-limit 0 \
  --threads 1 --log-level warn --data-dir "$data" ${EXTRA:-} > "$data/serve.log" 2>&1 &
jp=$!
trap 'kill $jp 2>/dev/null || true; wait $jp 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 200); do curl -sf localhost:18083/readyz > /dev/null && break; sleep 0.05; done
rp=$(cat "$data/redis/redis.pid")
taskset -a -p -c 0 "$rp" > /dev/null
redis() { redis-cli -s "$data/redis/redis.sock" "$@"; }
curl -sf -XPOST localhost:18083/api/v1/coupon-templates -H "Authorization: Bearer t" \
  -d "{\"title\":\"first second\",\"type\":\"AMOUNT\",\"value\":\"1000.00\",\"totalQuantity\":${Q:-10000}}" > /dev/null
threads() {
  for t in /proc/$jp/task/*; do echo "$(cat "$t/comm") $(cat "$t/schedstat")"; done
  echo "redis-server $(cat /proc/"$rp"/schedstat)"
}
redis CONFIG RESETSTAT > /dev/null
threads > "$data/before"
taskset -c 0 wrk -t1 -c256 -d1s --latency -s tools/bench/wrk/coupon_issue.lua \
  http://127.0.0.1:18083 -- 1 50000 > "$data/wrk.txt"
threads > "$data/after"
echo "wrk: $(grep -E ' (50|99)%' "$data/wrk.txt" | tr -s ' ' | tr '\n' ' ')$(awk '/Requests\/sec/ {print $2}' "$data/wrk.txt") req/s"
echo "Redis, that second (command, calls, µs):"
redis INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),usec=\([0-9]*\),.*/\3 \1 \2/p' \
  | sort -rn | head -12 | awk '{printf "  %-18s %7d calls %9d µs\n", $2, $3, $1}'
echo "Threads, that second (CPU ms, waiting ms, slices):"
paste "$data/before" "$data/after" | awk '{c = ($6 - $2) / 1e6; w = ($7 - $3) / 1e6; s = $8 - $4;
  if (c > 0.5) printf "  %-14s %7.1f %7.1f %6d\n", $1, c, w, s}'
