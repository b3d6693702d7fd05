#!/usr/bin/env bash
# User-space instructions per coupon-issue request, measured with callgrind (deterministic, unlike
# CPU time on a shared machine): one I/O thread, wrk -c32 for 8 s against a fresh drop, counters
# zeroed after a warm-up, the same 8 s idle subtracted, divided by the requests served.
#   bash tools/bench/callgrind_issue.sh [joopang binary]     (needs valgrind, wrk; port 18082)
# COUPONS and USERS (default 2,000 and 50,000: mostly sold-out answers) set the drop; COUPONS=100000000
# USERS=500000 measures an all-winners drop, the persister's work included.
# The load dump is left in $out; `python3 tools/bench/callgrind_self.py <dump>` lists self costs.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/src/main/joopang}
out=$(mktemp -d /tmp/joopang-callgrind.XXXXXX)
valgrind --tool=callgrind --compress-strings=no --compress-pos=no \
  --callgrind-out-file="$out/cg.out.%p" \
  "$bin" serve --listen 127.0.0.1:18082 --admin-token t --issue-rate-limit 0 --log-level warn \
  --data-dir "$out/data" --threads 1 > "$out/serve.log" 2>&1 &
vp=$!
trap 'kill -INT $vp 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -sf localhost:18082/readyz >/dev/null && break; sleep 0.1; done
curl -sf -XPOST localhost:18082/api/v1/coupon-templates -H "Authorization: Bearer t" \
  -d "{\"title\":\"w\",\"type\":\"AMOUNT\",\"value\":\"1000.00\",\"totalQuantity\":${COUPONS:-2000}}" >/dev/null
script=tools/bench/wrk/coupon_issue.lua
wrk -t1 -c32 -d3s -s $script http://127.0.0.1:18082 -- 1 ${USERS:-50000} > /dev/null
sleep 1
total() { grep -hE "^(summary|totals):" "$(ls -t "$out"/cg.out.$vp.* | head -1)" | head -1 | awk '{print $2}'; }
callgrind_control -z $vp > /dev/null
wrk -t1 -c32 -d8s -s $script http://127.0.0.1:18082 -- 1 ${USERS:-50000} > "$out/wrk.txt"
callgrind_control -d $vp > /dev/null; sleep 0.5
load=$(total)
callgrind_control -z $vp > /dev/null
sleep 8
callgrind_control -d $vp > /dev/null; sleep 0.5
idle=$(total)
n=$(awk '/requests in/ {print $1}' "$out/wrk.txt")
echo "requests=$n load_Ir=$load idle_Ir=$idle instructions_per_request=$(( (load - idle) / n )) (dumps in $out)"
