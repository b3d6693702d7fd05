# Sourced by the study scripts: a private redis-server on a free loopback port, in a temporary
# directory, stopped and removed on exit (with whatever else the caller lists in `pids`).
#   source tools/bench/private_redis.sh; private_redis <name> <appendonly yes|no>
# sets $dir, $port, free_port() and cli() (redis-cli on that port).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
pids=()
private_redis_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$dir/r.pid" ] && kill "$(cat "$dir/r.pid")" 2>/dev/null || true
  sleep 0.5; rm -rf "$dir"
}
private_redis() {
  dir="$(mktemp -d "/tmp/joopang-$1.XXXXXX")"
  port=$(free_port)
  trap private_redis_cleanup EXIT
  trap 'exit 130' INT TERM  # the EXIT trap then cleans up
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly "$2" \
    --daemonize yes --pidfile "$dir/r.pid" --logfile "$dir/r.log"
  for _ in $(seq 1 100); do cli ping >/dev/null 2>&1 && break; sleep 0.05; done
}
cli() { redis-cli -p "$port" "$@"; }
