#!/usr/bin/env bash
# Reproduces docs/benchmarks.md: every joopang figure beside its reference, measured in the same run
# on the same machine (these machines are shared and noisy; compare ratios, not absolutes).
#   bash scripts/bench.sh [rounds]        (after scripts/setup.sh; needs nginx, wrk, redis-benchmark)
#   JOOPANG_BENCH_SECTIONS="1 4" bash scripts/bench.sh   runs only those sections (1 product read,
#   2 coupon drop, 3 drain rate, 4 rankings, 5 waiting room, 6 dashboard polling, 7 issue durability;
#   default all)
# Writes raw outputs to bench-out/<time>/ and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2}"
build="${JOOPANG_BUILD_DIR:-build}"
bin="$PWD/$build/src/main/joopang"
bench="$PWD/$build/tools/bench/joopang-bench"
out="$PWD/bench-out/$(date -u +%Y%m%dT%H%M%SZ)"
work="$(mktemp -d /tmp/joopang-bench.XXXXXX)"
mkdir -p "$out"
nginx_port=18089; api_port=18080; pg_port=55499
token=bench-token
secret="bench-auth-secret-$(date +%s%N)"  # signs the access tokens of every simulated user
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  bash tests/support/pg_fixture.sh stop "$work/pg" "$pg_port" >/dev/null 2>&1 || true
  sleep 1; rm -rf "$work"
}
trap cleanup EXIT
log() { echo "== $*" | tee -a "$out/summary.txt"; }
want() { [[ " ${JOOPANG_BENCH_SECTIONS:-1 2 3 4 5 6 7} " == *" $1 "* ]]; }

# CPU placement. With JOOPANG_BENCH_PIN=1 (the default on 2+ cores) the server under test — nginx,
# joopang, or redis-server for the redis-benchmark reference — runs on the last CPU, and the load
# generators (wrk, joopang-bench, redis-benchmark) on the others, the same for every reference.
# joopang's own Redis goes with the load generators: in production it has a host of its own, and
# here it must not share the service's core. Left to the scheduler, wrk and joopang were often
# woken onto one core while the other idled (docs/benchmarks.md has the schedstat figures).
# JOOPANG_BENCH_PIN=0 measures without placement.
ncpu=$(nproc)
pin="${JOOPANG_BENCH_PIN:-1}"; [ "$ncpu" -ge 2 ] || pin=0
server_cpu=$((ncpu - 1)); client_cpus="0-$((ncpu - 2))"
on_server=(); on_clients=()
if [ "$pin" = 1 ]; then on_server=(taskset -c "$server_cpu"); on_clients=(taskset -c "$client_cpus"); fi
# Moves a running process (all its threads) to the load generators' CPUs.
to_clients() { [ "$pin" = 1 ] && taskset -a -p -c "$client_cpus" "$1" >/dev/null || true; }
log "CPU placement: $([ "$pin" = 1 ] && echo "server on CPU $server_cpu, load generators and joopang's Redis on CPU $client_cpus" || echo "none (the scheduler's)")"

# --- reference HTTP server: nginx `return 200`, as in ../shared/LIMITS.md §7 ----------------------
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1; pid $work/nginx/nginx.pid; error_log $work/nginx/logs/error.log;
events { worker_connections 4096; use epoll; multi_accept on; }
http { access_log off; keepalive_requests 10000000; keepalive_timeout 65;
  server { listen 127.0.0.1:$nginx_port reuseport backlog=4096;
           location / { default_type text/plain; return 200 "ok"; } } }
NGINX
"${on_server[@]}" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log"

# I/O threads of the measured service: one by default, as the nginx reference runs one worker
# (../shared/LIMITS.md §7: one server thread beside one wrk thread is the best split of two
# cores). JOOPANG_THREADS=0 measures the service's own default (one per core).
threads="${JOOPANG_THREADS:-1}"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD -- src tools 2>/dev/null || commit="$commit with uncommitted changes"
log "joopang serve --threads $threads (commit $commit)"
start_joopang() {  # args: name, --data-dir DIR, extra flags...
  local name=$1; shift
  "${on_server[@]}" "$bin" serve --listen 127.0.0.1:$api_port --admin-token $token --auth-secret "$secret" --issue-rate-limit 0 \
      --threads "$threads" --log-level warn "$@" > "$out/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do
    if curl -sf localhost:$api_port/readyz >/dev/null; then
      # its embedded Redis, if it has one (see CPU placement)
      [ -f "$2/redis/redis.pid" ] && to_clients "$(cat "$2/redis/redis.pid")"
      return 0
    fi
    sleep 0.05
  done
  echo "joopang did not become ready"; cat "$out/$name.log"; exit 1
}
stop_joopang() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }
wrk_rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
wrk_p99() { awk '/ 99%/ {print $2}' "$1"; }

# --- 1. GET /api/v1/products/{id} and the list's first page vs nginx, wrk -t1 -c64 -d10s ------
if want 1; then
start_joopang get --data-dir "$work/data-get"
curl -sf -XPOST localhost:$api_port/api/v1/products -H "Authorization: Bearer $token" \
  -d '{"name":"Bench hoodie","code":"B-1","price":"39000.00","items":[{"name":"L","code":"L","unitPrice":"39000.00","stock":1000000}]}' >/dev/null
for r in $(seq 1 "$rounds"); do
  "${on_clients[@]}" wrk -t1 -c64 -d10s --latency http://127.0.0.1:$nginx_port/ > "$out/wrk-nginx-c64-$r.txt"
  "${on_clients[@]}" wrk -t1 -c64 -d10s --latency http://127.0.0.1:$api_port/api/v1/products/1 > "$out/wrk-product-c64-$r.txt"
  "${on_clients[@]}" wrk -t1 -c64 -d10s --latency "http://127.0.0.1:$api_port/api/v1/products?sort=NEWEST&page=0&size=20" > "$out/wrk-list-c64-$r.txt"
  log "round $r: GET product $(wrk_rps "$out/wrk-product-c64-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-product-c64-$r.txt")) vs nginx $(wrk_rps "$out/wrk-nginx-c64-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-nginx-c64-$r.txt"))"
  log "round $r: GET product list page 0 $(wrk_rps "$out/wrk-list-c64-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-list-c64-$r.txt"))"
done
curl -s localhost:$api_port/metrics | grep -E '^joopang_cache_(requests_total|entries|evicted)\{cache="(product|product_list|catalog)"' > "$out/catalog-cache-metrics.txt"
log "catalog cache: $(tr '\n' ';' < "$out/catalog-cache-metrics.txt")"
# The shop through the cart: browse -> cart -> checkout -> pay, verified (stock, orders, wallets).
"${on_clients[@]}" "$bench" shop --url http://127.0.0.1:$api_port --admin-token $token --cart -c 32 --users 320 \
    -n 5000 -q --json "$out/shop-cart.json" > "$out/shop-cart.txt" 2>&1 || { cat "$out/shop-cart.txt"; exit 1; }
log "shop --cart: $(grep -E '^  (browse|cart|checkout|pay|iteration) |paid orders per second|RESULT' "$out/shop-cart.txt" | sed 's/  */ /g' | tr '\n' ';')"
stop_joopang
fi

# --- 2. coupon drop: joopang-bench vs wrk/nginx (same connections) vs redis-benchmark EVALSHA ----
if want 2; then
# Every issue request is signed in: wrk sends each user's access token (the nginx runs too, so
# that the load generator does the same work); joopang-bench signs its own with the secret.
"$bench" tokens --auth-secret "$secret" --users 50000 --out "$work/tokens.txt"
for r in $(seq 1 "$rounds"); do
  rm -rf "$work/data-drop"
  start_joopang drop-$r --data-dir "$work/data-drop"
  "${on_clients[@]}" "$bench" coupon-drop --url http://127.0.0.1:$api_port --admin-token $token --auth-secret "$secret" --users 50000 \
      --coupons 10000 --requests 100000 -c 256 -q --json "$out/coupon-drop-$r.json" \
      > "$out/coupon-drop-$r.txt" 2>&1 || { cat "$out/coupon-drop-$r.txt"; exit 1; }
  sock="$work/data-drop/redis/redis.sock"
  stop_joopang
  "${on_clients[@]}" wrk -t1 -c256 -d10s --latency http://127.0.0.1:$nginx_port/ > "$out/wrk-nginx-c256-$r.txt"
  # nginx again with the issue endpoint's own request stream (the same wrk script: POST bodies
  # from random users), so the load generator does the same work in both runs.
  "${on_clients[@]}" wrk -t1 -c256 -d10s --latency -s tools/bench/wrk/coupon_issue.lua \
      http://127.0.0.1:$nginx_port -- 1 50000 "$work/tokens.txt" > "$out/wrk-nginx-post-c256-$r.txt"
  # The same Lua file through redis-benchmark, on a fresh private redis-server (AOF on, like the
  # embedded default): template 999 with 10,000 coupons, 100,000 requests from 50,000 users.
  rdir="$work/redis-ref"; rm -rf "$rdir"; mkdir -p "$rdir"
  "${on_server[@]}" redis-server --port 0 --unixsocket "$rdir/r.sock" --dir "$rdir" --appendonly yes --save '' \
      --daemonize yes --pidfile "$rdir/r.pid" --logfile "$rdir/r.log"
  for _ in $(seq 1 100); do redis-cli -s "$rdir/r.sock" ping >/dev/null 2>&1 && break; sleep 0.05; done
  redis-cli -s "$rdir/r.sock" HSET 'coupon:{999}:meta' status ACTIVE start_at '' end_at '' limit 1 total 10000 >/dev/null
  redis-cli -s "$rdir/r.sock" SET 'coupon:{999}:stock' 10000 >/dev/null
  sha=$(redis-cli -s "$rdir/r.sock" SCRIPT LOAD "$(cat src/infra/redis/lua/coupon_issue.lua)")
  # One user per call (a batch of one: redis-benchmark cannot coalesce), so this is the cost of
  # the script as a service without batching would pay it.
  "${on_clients[@]}" redis-benchmark -s "$rdir/r.sock" --csv -c 256 -n 100000 -r 50000 EVALSHA "$sha" 6 \
      'coupon:{999}:meta' 'coupon:{999}:stock' 'coupon:{999}:users' 'coupon:{999}:seq' \
      'coupon-issue:{999}' 'coupon:{999}:won' 0 __rand_int__ \
      > "$out/redis-benchmark-evalsha-$r.csv"
  won=$(redis-cli -s "$rdir/r.sock" GET 'coupon:{999}:seq')
  kill "$(cat "$rdir/r.pid")"
  # The issue endpoint under wrk itself (same settings as the nginx run): a fresh drop of 10,000,
  # random users among 50,000, for 10 s — mostly sold-out answers after the first 10,000, as in
  # a real drop. joopang-bench above verifies the drop; wrk measures it with wrk's lighter client.
  rm -rf "$work/data-wrk"
  start_joopang wrk-$r --data-dir "$work/data-wrk"
  curl -sf -XPOST localhost:$api_port/api/v1/coupon-templates -H "Authorization: Bearer $token" \
    -d '{"title":"wrk drop","type":"AMOUNT","value":"1000.00","totalQuantity":10000}' >/dev/null
  "${on_clients[@]}" wrk -t1 -c256 -d10s --latency -s tools/bench/wrk/coupon_issue.lua \
      http://127.0.0.1:$api_port -- 1 50000 "$work/tokens.txt" > "$out/wrk-issue-c256-$r.txt"
  stop_joopang
  log "round $r: issue under wrk -c256: $(wrk_rps "$out/wrk-issue-c256-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-issue-c256-$r.txt"))"
  log "round $r: coupon-drop $(grep -m1 'req/s' "$out/coupon-drop-$r.txt" | sed 's/^ *//')"
  log "round $r: coupon-drop latency: $(grep -m1 -E '^ *issue +100000' "$out/coupon-drop-$r.txt" | sed 's/  */ /g')"
  log "round $r: nginx -c256 $(wrk_rps "$out/wrk-nginx-c256-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-nginx-c256-$r.txt")); with the issue script $(wrk_rps "$out/wrk-nginx-post-c256-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-nginx-post-c256-$r.txt"))"
  log "round $r: redis-benchmark EVALSHA c256: $(tail -1 "$out/redis-benchmark-evalsha-$r.csv") (won $won)"
done
fi

# --- 3. drain rate: issue with the persister off, then time one `joopang worker` draining -------
drain() {  # name, database url ("" = SQLite in data dir)
  local name=$1 db=$2 dir="$work/data-$1"
  rm -rf "$dir"
  local dbflag=(); [ -n "$db" ] && dbflag=(--database "$db")
  start_joopang "drain-$name" --data-dir "$dir" --coupon-persister false "${dbflag[@]}"
  # 120,000 requests from 1,000,000 users: every one of the 100,000 coupons is won.
  "${on_clients[@]}" "$bench" coupon-drop --url http://127.0.0.1:$api_port --admin-token $token --auth-secret "$secret" --users 1000000 \
      --coupons 100000 --requests 120000 -c 256 -q --skip-drain --skip-reconcile \
      > "$out/drain-$name-issue.txt" 2>&1 || { cat "$out/drain-$name-issue.txt"; exit 1; }
  local sock="$dir/redis/redis.sock" t0="" t1 issued=0 first=0
  "${on_server[@]}" "$bin" worker --data-dir "$dir" --redis "unix://$sock" "${dbflag[@]}" --log-level warn \
      > "$out/drain-$name-worker.log" 2>&1 &
  pids+=($!)
  # The rate is timed from the first persisted row to the last (worker start-up excluded).
  for _ in $(seq 1 3000); do
    issued=$(curl -s localhost:$api_port/api/v1/coupon-templates/1 | sed -E 's/.*"issuedQuantity":([0-9]+).*/\1/')
    if [ -z "$t0" ] && [ "$issued" -gt 0 ]; then t0=$(date +%s.%N); first=$issued; fi
    [ "$issued" = 100000 ] && break; sleep 0.02
  done
  t1=$(date +%s.%N)
  stop_joopang; stop_joopang
  log "drain to $name: $((issued - first)) rows in $(echo "$t1 - $t0" | bc) s = $(echo "($issued - $first) / ($t1 - $t0)" | bc) rows/s (first row to last)"
}
if want 3; then
drain sqlite ""
bash tests/support/pg_fixture.sh start "$work/pg" "$pg_port" >/dev/null
psql "postgresql://postgres@127.0.0.1:$pg_port/postgres" -qc "CREATE DATABASE bench" >/dev/null
drain postgresql "postgresql://postgres@127.0.0.1:$pg_port/bench"
fi

# --- 4. rankings: the read vs nginx (wrk, interleaved); joopang-bench ranking (writes + reads) ----
ranking_section() {
  rm -rf "$work/data-rank"
  start_joopang rank --data-dir "$work/data-rank"
  # Writers and readers at once, a freshness probe, and exactness at the end; it leaves a category
  # (id 1) with paid products whose rankings are published, which wrk then reads.
  "${on_clients[@]}" "$bench" ranking --url http://127.0.0.1:$api_port --admin-token $token -c 32 --writers 16 \
      --duration 10 -q --json "$out/ranking-bench.json" > "$out/ranking-bench.txt" 2>&1 \
      || { cat "$out/ranking-bench.txt"; exit 1; }
  log "ranking bench: $(grep -E 'paid orders per second|ranking reads per second|p50|p99|max' "$out/ranking-bench.txt" | sed 's/^ *//' | tr '\n' ';')"
  local path="/api/v1/rankings/products?window=24h&metric=sales&limit=10&categoryId=1"
  curl -sf "localhost:$api_port$path" | grep -q '"source":"redis"' || { echo "ranking not published"; exit 1; }
  for r in $(seq 1 "$rounds"); do
    "${on_clients[@]}" wrk -t1 -c64 -d10s --latency http://127.0.0.1:$nginx_port/ > "$out/wrk-nginx-rank-$r.txt"
    "${on_clients[@]}" wrk -t1 -c64 -d10s --latency "http://127.0.0.1:$api_port$path" > "$out/wrk-ranking-$r.txt"
    log "round $r: GET ranking $(wrk_rps "$out/wrk-ranking-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-ranking-$r.txt")) vs nginx $(wrk_rps "$out/wrk-nginx-rank-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-nginx-rank-$r.txt"))"
  done
  stop_joopang
}
if want 4; then ranking_section; fi

# --- 5. waiting room: the join vs nginx (wrk, same signed-in requests); redis-benchmark of the --
# join script; joopang-bench waiting-room (join, poll, admission, order) --------------------------
waiting_room_section() {
  [ -f "$work/tokens.txt" ] || "$bench" tokens --auth-secret "$secret" --users 50000 --out "$work/tokens.txt"
  rm -rf "$work/data-queue"
  start_joopang queue --data-dir "$work/data-queue" --queue-protect "POST /api/v1/orders"
  "${on_clients[@]}" "$bench" waiting-room --url http://127.0.0.1:$api_port --admin-token $token --users 2000 \
      --admit-per-second 200 -c 64 -q --json "$out/waiting-room-bench.json" > "$out/waiting-room-bench.txt" 2>&1 \
      || { cat "$out/waiting-room-bench.txt"; exit 1; }
  log "waiting-room bench: $(grep -E 'per second|p50|p99|PASS|FAIL' "$out/waiting-room-bench.txt" | sed 's/^ *//' | tr '\n' ';')"
  # wrk's users 1..50,000 are signed in by tokens signed with the secret (a join needs no
  # database row); a join is one script call whether it is a user's first (201) or again (200).
  for r in $(seq 1 "$rounds"); do
    "${on_clients[@]}" wrk -t1 -c256 -d10s --latency -s tools/bench/wrk/coupon_issue.lua \
        http://127.0.0.1:$nginx_port -- /api/v1/queue/tokens 50000 "$work/tokens.txt" > "$out/wrk-nginx-join-$r.txt"
    "${on_clients[@]}" wrk -t1 -c256 -d10s --latency -s tools/bench/wrk/coupon_issue.lua \
        http://127.0.0.1:$api_port -- /api/v1/queue/tokens 50000 "$work/tokens.txt" > "$out/wrk-join-$r.txt"
    log "round $r: join $(wrk_rps "$out/wrk-join-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-join-$r.txt")) vs nginx $(wrk_rps "$out/wrk-nginx-join-$r.txt") req/s (p99 $(wrk_p99 "$out/wrk-nginx-join-$r.txt"))"
  done
  local sock="$work/data-queue/redis/redis.sock" sha
  sha=$(redis-cli -s "$sock" SCRIPT LOAD "$(cat src/infra/redis/lua/queue_common.lua; echo; cat src/infra/redis/lua/queue_join.lua)")
  redis-cli -s "$sock" CONFIG RESETSTAT >/dev/null
  "${on_clients[@]}" redis-benchmark -s "$sock" -c 50 -n 200000 -r 100000000 --csv \
      EVALSHA "$sha" 1 'queue:{queue}:users' 300000 __rand_int__ tok__rand_int__ > "$out/redis-benchmark-join.txt"
  log "redis-benchmark EVALSHA queue join (-c 50, random users): $(tail -1 "$out/redis-benchmark-join.txt")"
  stop_joopang
}
if want 5; then waiting_room_section; fi

# --- 7. acknowledged wins on a replica: the issue under wrk with --issue-durability replica and
# local, against a Redis master with one replica (AOF on), beside nginx ---------------------------
durability_section() {
  [ -f "$work/tokens.txt" ] || "$bench" tokens --auth-secret "$secret" --users 50000 --out "$work/tokens.txt"
  local m="$work/redis-master" r="$work/redis-replica" mport=18091 rport=18092
  rm -rf "$m" "$r"; mkdir -p "$m" "$r"
  "${on_clients[@]}" redis-server --port $mport --bind 127.0.0.1 --dir "$m" --appendonly yes --save '' \
      --daemonize yes --pidfile "$m/pid" --logfile "$m/log"
  "${on_clients[@]}" redis-server --port $rport --bind 127.0.0.1 --dir "$r" --appendonly yes --save '' \
      --replicaof 127.0.0.1 $mport --daemonize yes --pidfile "$r/pid" --logfile "$r/log"
  # Online, not only connected: a full sync first waits repl-diskless-sync-delay (5 s), and WAIT
  # counts no replica until it is done.
  for _ in $(seq 1 300); do redis-cli -p $mport info replication | grep -q 'state=online' && break; sleep 0.1; done
  for r_ in $(seq 1 "$rounds"); do
    for mode in replica local; do
      redis-cli -p $mport FLUSHALL >/dev/null
      rm -rf "$work/data-dur"
      start_joopang "durability-$mode-$r_" --data-dir "$work/data-dur" --redis "redis://127.0.0.1:$mport" \
          --issue-durability $mode
      curl -sf -XPOST localhost:$api_port/api/v1/coupon-templates -H "Authorization: Bearer $token" \
        -d '{"title":"wrk drop","type":"AMOUNT","value":"1000.00","totalQuantity":10000}' >/dev/null
      "${on_clients[@]}" wrk -t1 -c256 -d10s --latency -s tools/bench/wrk/coupon_issue.lua \
          http://127.0.0.1:$api_port -- 1 50000 "$work/tokens.txt" > "$out/wrk-issue-$mode-$r_.txt"
      stop_joopang
    done
    "${on_clients[@]}" wrk -t1 -c256 -d10s --latency http://127.0.0.1:$nginx_port/ > "$out/wrk-nginx-dur-$r_.txt"
    log "round $r_: issue with a replica: durability replica $(wrk_rps "$out/wrk-issue-replica-$r_.txt") req/s (p99 $(wrk_p99 "$out/wrk-issue-replica-$r_.txt")), local $(wrk_rps "$out/wrk-issue-local-$r_.txt") req/s (p99 $(wrk_p99 "$out/wrk-issue-local-$r_.txt")); nginx $(wrk_rps "$out/wrk-nginx-dur-$r_.txt") req/s (p99 $(wrk_p99 "$out/wrk-nginx-dur-$r_.txt"))"
  done
  kill "$(cat "$r/pid")" "$(cat "$m/pid")" 2>/dev/null || true
}
if want 7; then durability_section; fi

# --- 6. the dashboard's data endpoint: CPU per poll against the same processes idle ------------
if want 6; then
  bash scripts/dashboard_cost.sh 2000 > "$out/dashboard-cost.txt"
  log "dashboard: $(tr '\n' ';' < "$out/dashboard-cost.txt")"
fi

echo; echo "raw outputs in $out"; cat "$out/summary.txt"
# Plots of these outputs (gnuplot, from scripts/setup.sh): docs/img/bench/ holds the latest.
if want 1 || want 2 || want 4 || want 5; then
  python3 scripts/plot_bench.py "$out" --out "$out/plots" >/dev/null && echo "plots in $out/plots" \
    || echo "scripts/plot_bench.py failed"
fi
