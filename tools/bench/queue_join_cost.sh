#!/usr/bin/env bash
# Redis time per waiting-room join, as Redis itself counts it (INFO commandstats): a private
# redis-server (AOF on, like the embedded one), 50,000 users who all joined once already joining
# again in calls of 50, the way the service batches them.
#   bash tools/bench/queue_join_cost.sh [join.lua [common.lua]]
# (defaults: src/infra/redis/lua/queue_join.lua and queue_common.lua). Pass other versions, e.g.
# `git show c9ba766:src/infra/redis/lua/queue_common.lua > /tmp/common-before.lua`, to compare
# them with the current ones in one session.
set -euo pipefail
cd "$(dirname "$0")/../.."
lua="${1:-src/infra/redis/lua/queue_join.lua}"
common="${2:-src/infra/redis/lua/queue_common.lua}"
dir="$(mktemp -d /tmp/joopang-join-cost.XXXXXX)"
port=18777
redis-server --port $port --bind 127.0.0.1 --dir "$dir" --appendonly yes --save '' --daemonize yes \
    --pidfile "$dir/pid" --logfile "$dir/log"
trap 'redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.05; done
sha=$(redis-cli -p $port SCRIPT LOAD "$(cat "$common"; echo; cat "$lua")")
calls() {  # RESP for $1 calls of 50 joins each, users random among 50,000, seeded by $2
    python3 - "$sha" "$1" "$2" <<'PY'
import random, sys
sha, calls, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out, rnd = sys.stdout.buffer, random.Random(seed)
def command(args):
    b = b"*%d\r\n" % len(args)
    for a in args:
        a = str(a).encode()
        b += b"$%d\r\n%s\r\n" % (len(a), a)
    return b
for _ in range(calls):
    args = ["EVALSHA", sha, 1, "queue:{queue}:users", 300000]  # waiting TTL 5 min
    for _ in range(50):
        args += [rnd.randint(1, 50000), "%032x" % rnd.getrandbits(128)]
    out.write(command(args))
PY
}
calls 2000 1 | redis-cli -p $port --pipe >/dev/null   # every user joins once (and a few again)
redis-cli -p $port CONFIG RESETSTAT >/dev/null
calls 4000 2 | redis-cli -p $port --pipe >/dev/null   # 200,000 joins again
redis-cli -p $port INFO commandstats | tr -d '\r' | grep -E "cmdstat_(evalsha|hget|zscore|zadd|zrank|hset)"
redis-cli -p $port INFO commandstats | tr -d '\r' | \
    awk -F'[,=]' '/cmdstat_evalsha/ {printf "Redis time per join: %.2f us (%s calls of 50)\n", $6 / 50, $2}'
