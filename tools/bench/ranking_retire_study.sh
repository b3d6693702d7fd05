#!/usr/bin/env bash
# How long one step of retiring a rankings bucket blocks Redis, by catalog size: a daily bucket
# of N products (four metrics) is made to leave the 7-day window, and lua/ranking_retire.lua is
# called until it is done. Prints the steps, the slowest step and the 99th percentile (Redis's
# LATENCY HISTOGRAM, power-of-two buckets), the Redis CPU time of the whole retire (INFO
# commandstats), next to one ZUNIONSTORE of 7 such buckets (the re-summing it replaces).
#   bash tools/bench/ranking_retire_study.sh [sizes...]     (default: 10000 100000 500000)
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("$@"); [ $# -eq 0 ] && sizes=(10000 100000 500000)
source tools/bench/private_redis.sh
private_redis retire no
fill='local n = tonumber(ARGV[1])
for i = 1, n, 1000 do
  local args = {}
  for j = i, math.min(n, i + 999) do args[#args + 1] = (j % 97) + 1; args[#args + 1] = j end
  redis.call("ZADD", KEYS[1], unpack(args))
end
return redis.call("ZCARD", KEYS[1])'
retire="$(cat src/infra/redis/lua/ranking_retire.lua)"
day=86400000
chunk="${JOOPANG_RETIRE_CHUNK:-100}"  # members per step, as RedisRankingStore::kRetireChunk
printf "%-9s %6s %12s %12s %14s %18s\n" products steps "p99 ms <=" "slowest ms <=" "total CPU ms" "ZUNIONSTORE 7 ms"
for n in "${sizes[@]}"; do
  cli flushall >/dev/null
  now=$((1700000000000 / day * day))
  old=$((now / day - 7))   # the bucket that has just left the 7-day window
  for m in sales revenue views score; do
    cli eval "$fill" 1 "rank:{rank}:b:d7:$old:$m:all" "$n" >/dev/null
    cli eval "$fill" 1 "rank:{rank}:w:d7:$m:all" "$n" >/dev/null
  done
  cli hset "rank:{rank}:edge" d7 "$old" >/dev/null
  cli config resetstat >/dev/null
  steps=0
  while [ "$(cli eval "$retire" 1 'rank:{rank}:applied' "$now" "$chunk" 691200000 1 d7 "$day" 7)" = 1 ]; do
    steps=$((steps + 1))
  done
  total=$(cli info commandstats | sed -n 's/^cmdstat_eval:calls=[0-9]*,usec=\([0-9]*\),.*/\1/p' | tr -d '\r')
  # LATENCY HISTOGRAM eval: (bound µs, cumulative count) pairs; the bounds that hold 99 % and all.
  stats=$(cli --raw latency histogram eval | python3 -c '
import sys
words = [w for w in sys.stdin.read().split() if w]
pairs = words[words.index("histogram_usec") + 1:]
cum = [(int(pairs[i]), int(pairs[i + 1])) for i in range(0, len(pairs) - 1, 2)]
calls = cum[-1][1]
p99 = next(b for b, c in cum if c * 100 >= calls * 99)
print("%.3f %.3f" % (p99 / 1000.0, cum[-1][0] / 1000.0))')
  # The union it replaces: 7 daily buckets of n.
  for d in 1 2 3 4 5 6 7; do cli eval "$fill" 1 "u:{rank}:$d" "$n" >/dev/null; done
  cli config resetstat >/dev/null
  cli zunionstore "u:{rank}:out" 7 u:{rank}:1 u:{rank}:2 u:{rank}:3 u:{rank}:4 u:{rank}:5 u:{rank}:6 u:{rank}:7 >/dev/null
  zu=$(cli info commandstats | sed -n 's/^cmdstat_zunionstore:.*usec_per_call=\([0-9.]*\).*/\1/p' | tr -d '\r')
  printf "%-9s %6s %12s %12s %14.1f %18.1f\n" "$n" "$((steps + 1))" $stats "$(echo "$total / 1000" | bc -l)" "$(echo "$zu / 1000" | bc -l)"
done
