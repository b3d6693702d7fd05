#!/usr/bin/env bash
# How fast the ranking updater applies order events, next to redis-benchmark running the same
# script (lua/ranking_apply.lua) on a private redis-server of the same configuration.
#   bash tools/bench/ranking_apply_study.sh [events]      (default 100000; needs a build)
# 1. redis-benchmark: EVALSHA of the apply script with one event (one line) per call, and with
#    100 events per call (the updater's batches are up to 500), random ids and products.
# 2. The updater: the stream order-events:{rank} is filled with `events` order-paid entries
#    (random products among `products`, in 20 categories), then `joopang serve` starts and drains
#    it; timed from the first applied event to the last (ZCARD of the applied set).
#    JOOPANG_STUDY_PRODUCTS (default 100,000,000, as redis-benchmark's random products: no product
#    comes twice) sets how many products the events spread over.
set -euo pipefail
cd "$(dirname "$0")/../.."
events="${1:-100000}"
bin="$PWD/${JOOPANG_BUILD_DIR:-build}/src/main/joopang"
source tools/bench/private_redis.sh
private_redis apply yes
api=$(free_port)

now=$(($(date +%s) * 1000))
families=(4 h1 60000 60 7200000 d1 3600000 24 180000000 d3 86400000 3 345600000 d7 86400000 7 691200000)
sha=$(cli SCRIPT LOAD "$(cat src/infra/redis/lua/ranking_apply.lua)")
# ARGV: now, half-life, weights (sales, revenue, views), rebase due (half-lives), families, then
# events: count + (id, sign, at, lines, product, category, quantity, cents, views).
one=(1 __rand_int__ 1 "$now" 1 __rand_int__ 7 1 1000 0)
hundred=(100); for _ in $(seq 1 100); do hundred+=(__rand_int__ 1 "$now" 1 __rand_int__ 7 1 1000 0); done
rb() {  # label, calls, events per call, event args...
  local label=$1 calls=$2 per=$3; shift 3
  local csv rps
  csv=$(redis-benchmark -p "$port" --csv -c 8 -n "$calls" -r 100000000 EVALSHA "$sha" 1 'rank:{rank}:applied' \
        "$now" 86400000 1 0 0.1 256 "${families[@]}" "$@" | tail -1)
  rps=$(echo "$csv" | awk -F'","' '{print $2}')
  printf "redis-benchmark, %-28s %10.0f calls/s = %10.0f events/s\n" "$label:" "$rps" "$(echo "$rps * $per" | bc)"
}
rb "1 event per call" 50000 1 "${one[@]}"
rb "100 events per call" 2000 100 "${hundred[@]}"
cli FLUSHALL >/dev/null

# The stream, as the outbox relay writes it.
products="${JOOPANG_STUDY_PRODUCTS:-100000000}"
python3 - "$events" "$now" "$products" <<'PY' | cli --pipe >/dev/null
import random, sys
n, now, products = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
out = sys.stdout
def cmd(*parts):
    out.write("*%d\r\n" % len(parts))
    for p in parts:
        p = str(p)
        out.write("$%d\r\n%s\r\n" % (len(p.encode()), p))
for i in range(1, n + 1):
    product = random.randint(1, products)
    payload = ('{"orderId":%d,"userId":1,"at":%d,"paidAt":%d,"payableCents":1000,"items":'
               '[{"productId":%d,"categoryId":%d,"productItemId":%d,"quantity":1,"amountCents":1000}]}'
               % (i, now, now, product, product % 20 + 1, product))
    cmd("XADD", "order-events:{rank}", "*", "outbox_id", i, "topic", "order-paid", "payload", payload)
PY
echo "stream filled: $(cli XLEN 'order-events:{rank}') events over $products products"
"$bin" serve --listen 127.0.0.1:$api --data-dir "$dir/data" --redis "redis://127.0.0.1:$port" \
  --admin-token study --log-level warn > "$dir/joopang.log" 2>&1 &
pids+=($!)
t0=""; applied=0
for _ in $(seq 1 6000); do
  applied=$(cli ZCARD 'rank:{rank}:applied')
  if [ -z "$t0" ] && [ "$applied" -gt 0 ]; then t0=$(date +%s.%N); first=$applied; fi
  [ "$applied" -ge "$events" ] && break
  sleep 0.01
done
t1=$(date +%s.%N)
printf "updater (joopang serve):                    %d events in %.2f s = %.0f events/s (first applied to last)\n" \
  "$((applied - first))" "$(echo "$t1 - $t0" | bc)" "$(echo "($applied - $first) / ($t1 - $t0)" | bc)"
