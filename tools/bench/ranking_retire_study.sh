#!/usr/bin/env bash
# How long one step of retiring a rankings bucket blocks Redis, by catalog size: a daily bucket
# of N products (three metrics) is made to leave the 7-day window, and lua/ranking_retire.lua is
# called until it is done. Prints the steps and the slowest and mean step, from SLOWLOG (every
# call logged), next to one ZUNIONSTORE of 7 such buckets (the re-summing it replaces).
#   bash tools/bench/ranking_retire_study.sh [sizes...]     (default: 10000 100000 500000)
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("$@"); [ $# -eq 0 ] && sizes=(10000 100000 500000)
dir="$(mktemp -d /tmp/joopang-retire.XXXXXX)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no --daemonize yes \
  --pidfile "$dir/r.pid" --logfile "$dir/r.log" --slowlog-max-len 100000
trap 'kill "$(cat "$dir/r.pid")" 2>/dev/null; rm -rf "$dir"' EXIT
cli() { redis-cli -p "$port" "$@"; }
for _ in $(seq 1 100); do cli ping >/dev/null 2>&1 && break; sleep 0.05; done
fill='local n = tonumber(ARGV[1])
for i = 1, n, 1000 do
  local args = {}
  for j = i, math.min(n, i + 999) do args[#args + 1] = (j % 97) + 1; args[#args + 1] = j end
  redis.call("ZADD", KEYS[1], unpack(args))
end
return redis.call("ZCARD", KEYS[1])'
retire="$(cat src/infra/redis/lua/ranking_retire.lua)"
day=86400000
chunk="${JOOPANG_RETIRE_CHUNK:-200}"  # members per step, as RedisRankingStore::kRetireChunk
printf "%-9s %6s %14s %14s %18s\n" products steps "slowest ms" "mean ms" "ZUNIONSTORE 7 ms"
for n in "${sizes[@]}"; do
  cli flushall >/dev/null
  now=$((1700000000000 / day * day))
  old=$((now / day - 7))   # the bucket that has just left the 7-day window
  for m in sales revenue score; do
    cli eval "$fill" 1 "rank:{rank}:b:d7:$old:$m:all" "$n" >/dev/null
    cli eval "$fill" 1 "rank:{rank}:w:d7:$m:all" "$n" >/dev/null
  done
  cli hset "rank:{rank}:edge" d7 "$old" >/dev/null
  cli config set slowlog-log-slower-than 0 >/dev/null; cli slowlog reset >/dev/null
  steps=0
  while [ "$(cli eval "$retire" 1 'rank:{rank}:applied' "$now" "$chunk" 691200000 1 d7 "$day" 7)" = 1 ]; do
    steps=$((steps + 1))
  done
  stats=$(cli slowlog get 100000 | awk '/^[0-9]+$/ {n++} 0' ; cli --raw slowlog get 100000 | python3 -c '
import sys
lines = sys.stdin.read().split("\n")
# --raw prints each entry as: id, time, duration (us), then the command words
durs = []
i = 0
while i + 2 < len(lines):
    if lines[i].isdigit() and lines[i+1].isdigit() and lines[i+2].isdigit():
        if i + 3 < len(lines) and lines[i+3].lower() == "eval":
            durs.append(int(lines[i+2]))
        i += 3
    else:
        i += 1
print("%.2f %.2f" % (max(durs) / 1000.0, sum(durs) / len(durs) / 1000.0) if durs else "0 0")')
  # The union it replaces: 7 daily buckets of n.
  for d in 1 2 3 4 5 6 7; do cli eval "$fill" 1 "u:{rank}:$d" "$n" >/dev/null; done
  cli config resetstat >/dev/null
  cli zunionstore "u:{rank}:out" 7 u:{rank}:1 u:{rank}:2 u:{rank}:3 u:{rank}:4 u:{rank}:5 u:{rank}:6 u:{rank}:7 >/dev/null
  zu=$(cli info commandstats | sed -n 's/^cmdstat_zunionstore:.*usec_per_call=\([0-9.]*\).*/\1/p' | tr -d '\r')
  printf "%-9s %6s %14s %14s %18.1f\n" "$n" "$((steps + 1))" $stats "$(echo "$zu / 1000" | bc -l)"
done
