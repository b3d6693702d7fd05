#!/usr/bin/env bash
# How long one ZUNIONSTORE of a rankings window blocks Redis, by catalog size: 7 daily and 24
# hourly buckets of N products each (random integer scores), summed with WEIGHTS into one key, on
# a private redis-server. Prints the Redis-side time per call (INFO commandstats), the figure that
# decides whether a refresh may re-sum buckets (docs/architecture.md, "Rankings").
#   bash tools/bench/zunion_study.sh [sizes...]     (default: 10000 100000 500000)
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("$@")
[ $# -eq 0 ] && sizes=(10000 100000 500000)
source tools/bench/private_redis.sh
private_redis zunion no
# Fills KEYS[1] with ARGV[1] members "1".."N", scores from a seeded generator.
fill='local n = tonumber(ARGV[1]); math.randomseed(tonumber(ARGV[2]))
for i = 1, n, 1000 do
  local args = {}
  for j = i, math.min(n, i + 999) do args[#args + 1] = math.random(1, 1000); args[#args + 1] = j end
  redis.call("ZADD", KEYS[1], unpack(args))
end
return redis.call("ZCARD", KEYS[1])'
printf "%-9s %-28s %12s\n" "products" "union" "ms per call"
for n in "${sizes[@]}"; do
  cli flushall >/dev/null
  for d in 1 2 3 4 5 6 7; do cli eval "$fill" 1 "rank:{r}:d$d" "$n" "$d" >/dev/null; done
  for h in $(seq 1 24); do cli eval "$fill" 1 "rank:{r}:h$h" "$n" "$((100 + h))" >/dev/null; done
  days=(); weights=(); for d in 1 2 3 4 5 6 7; do days+=("rank:{r}:d$d"); weights+=("1"); done
  hours=(); hweights=(); for h in $(seq 1 24); do hours+=("rank:{r}:h$h"); hweights+=("1"); done
  for what in "7 daily" "24 hourly"; do
    cli config resetstat >/dev/null
    for _ in 1 2 3; do
      if [ "$what" = "7 daily" ]; then
        cli zunionstore "rank:{r}:out" 7 "${days[@]}" WEIGHTS "${weights[@]}" >/dev/null
      else
        cli zunionstore "rank:{r}:out" 24 "${hours[@]}" WEIGHTS "${hweights[@]}" >/dev/null
      fi
    done
    usec=$(cli info commandstats | sed -n 's/^cmdstat_zunionstore:.*usec_per_call=\([0-9.]*\).*/\1/p' | tr -d '\r')
    printf "%-9s %-28s %12.1f\n" "$n" "ZUNIONSTORE $what" "$(echo "$usec / 1000" | bc -l)"
  done
done
