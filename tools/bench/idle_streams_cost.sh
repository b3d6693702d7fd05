#!/usr/bin/env bash
# What an idle service costs Redis per coupon template it has ever published: starts
# `joopang serve` on the embedded defaults, creates N templates with one win each (so each has a
# stream and a consumer group), lets the drains finish and the drops finish (every coupon
# persisted), then counts the commands Redis runs (INFO commandstats) and joopang's CPU over 10
# idle seconds, and what one dashboard poll costs then. Pass an older binary to compare.
#   bash tools/bench/idle_streams_cost.sh [templates=1000] [joopang binary]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-1000}"
bin="${2:-$PWD/${JOOPANG_BUILD_DIR:-build}/src/main/joopang}"
source scripts/private_serve.sh
private_serve idle-streams --issue-rate-limit 0
curl -sf "${admin[@]}" -XPOST localhost:$port/api/v1/users \
  -d '{"email":"idle@example.com","password":"password-1","firstName":"I","lastName":"D","balance":"1.00"}' >/dev/null
for t in $(seq 1 "$n"); do
  printf 'url = "http://127.0.0.1:%s/api/v1/coupon-templates"\nrequest = "POST"\nheader = "Authorization: Bearer %s"\ndata = "{\\"title\\":\\"idle %s\\",\\"type\\":\\"AMOUNT\\",\\"value\\":\\"1.00\\",\\"totalQuantity\\":1}"\noutput = /dev/null\nnext\n' "$port" "$token" "$t"
  printf 'url = "http://127.0.0.1:%s/api/v1/coupon-templates/%s/issue"\nrequest = "POST"\nheader = "Authorization: Bearer %s"\ndata = "{\\"userId\\":1}"\noutput = /dev/null\nnext\n' "$port" "$t" "$token"
done | sed '$d' > "$work/curl.cfg"   # no `next` after the last request
curl -s -K "$work/curl.cfg"
sock="$work/data/redis/redis.sock"
calls() { redis-cli -s "$sock" INFO commandstats | awk -F'[=,:]' '/^cmdstat_/ {s += $3} END {print s}'; }
# Every win persisted, then the streams' quiet period (10 s) and the minute finished drops stay
# on the dashboard pass.
for _ in $(seq 1 600); do
  issued=$(curl -sf localhost:$port/api/v1/coupon-templates/$n | grep -o '"issuedQuantity":[0-9]*' | cut -d: -f2)
  [ "${issued:-0}" = 1 ] && break; sleep 0.1
done
sleep 65
redis-cli -s "$sock" CONFIG RESETSTAT >/dev/null
c0=$(calls); j0=$(ticks $pid); sleep 10; c1=$(calls); j1=$(ticks $pid)
# The busiest commands, calls per second.
redis-cli -s "$sock" INFO commandstats | awk -F'[=,:]' '/^cmdstat_/ {printf "  %-28s %8d/s\n", $1, $3 / 10}' |
  sort -k2 -nr | head -8
echo "$n templates, idle 10 s: Redis ran $(( (c1 - c0) / 10 )) commands/s; joopang used $(echo "scale=1; ($j1 - $j0) * 100 / $hz / 10" | bc) % of a core"
# What one dashboard poll costs with these drops behind it: 50 polls back to back, less the same
# process idle for as long.
p0=$(ticks $pid); s0=$(date +%s.%N)
for _ in $(seq 1 50); do
  curl -sf -o /dev/null -H "Authorization: Bearer $token" "localhost:$port/api/v1/admin/dashboard?metric=score"
done
p1=$(ticks $pid); took=$(echo "$(date +%s.%N) - $s0" | bc)
sleep "$took"; p2=$(ticks $pid)
echo "dashboard poll: $(echo "scale=1; ($p1 - $p0 - ($p2 - $p1)) * 1000 / $hz / 50" | bc) ms of joopang CPU each ($(echo "scale=1; $took * 1000 / 50" | bc) ms wall)"
