#!/usr/bin/env bash
# Redis memory per coupon winner: one drop of S coupons won by S distinct users (joopang-bench
# coupon-drop, verified and persisted), then Redis's used_memory before and after, and each of
# the drop's keys as the dashboard reports them (MEMORY USAGE, elements, TTL).
#   bash scripts/drop_memory.sh [winners=500000]      (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
winners="${1:-500000}"
build="${JOOPANG_BUILD_DIR:-build}"
work="$(mktemp -d /tmp/joopang-mem.XXXXXX)"
port=18098; token=drop-memory-token; secret="drop-memory-secret-$(date +%s%N)"
"$build/src/main/joopang" serve --data-dir "$work/data" --listen 127.0.0.1:$port --admin-token $token \
    --auth-secret "$secret" --issue-rate-limit 0 --log-level warn > "$work/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do curl -sf localhost:$port/readyz >/dev/null && break; sleep 0.05; done
sock="$work/data/redis/redis.sock"
used() { redis-cli -s "$sock" INFO memory | awk -F: '/^used_memory:/ {print $2+0}'; }
before=$(used)
# Ten times as many users as coupons, 1.2 requests per coupon: every coupon is won, each winner
# a distinct user (the per-user limit is 1).
"$build/tools/bench/joopang-bench" coupon-drop --url http://127.0.0.1:$port --admin-token $token \
    --auth-secret "$secret" --users $((winners * 10)) --coupons "$winners" \
    --requests $((winners * 12 / 10)) -c 64 -q --drain-timeout $((120 + winners / 10000)) \
    > "$work/bench.txt" 2>&1 || { cat "$work/bench.txt"; exit 1; }
grep -E "RESULT|req/s" "$work/bench.txt"
sleep 2  # the drop monitor samples every second
after=$(used)
curl -sf -H "Authorization: Bearer $token" "localhost:$port/api/v1/admin/dashboard" | python3 -c '
import json, sys
before, after, winners = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
d = json.load(sys.stdin)["drops"]["items"][0]
assert d["reserved"] == winners and d["persisted"] == winners, d
print("%d winners: Redis used_memory grew %.1f MB = %.1f bytes per winner" % (
    winners, (after - before) / 1e6, (after - before) / winners))
print("the drop'"'"'s keys (MEMORY USAGE, sampled): %.1f MB = %.1f bytes per winner" % (
    d["keyBytes"] / 1e6, d["bytesPerWinner"]))
for k in d["keys"]:
    print("  %-24s %-7s %10d elements %12d bytes %6.1f B/winner  ttl %s" % (
        k["key"], k["type"], k["length"], k["bytes"], k["bytes"] / winners,
        "none" if k["ttlMs"] < 0 else "%d s" % (k["ttlMs"] // 1000)))
print("at 10,000,000 winners: about %.0f MB" % ((after - before) / winners * 1e7 / 1e6))
' "$before" "$after" "$winners"
