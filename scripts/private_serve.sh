# Sourced by the cost scripts: a private `joopang serve` on the embedded defaults (its own data
# directory and redis-server) on a free loopback port, stopped and removed on exit.
#   source scripts/private_serve.sh; private_serve <name> [serve flags...]
# Needs $bin (the binary). Sets $work, $port, $pid, $token and admin=(the admin header); gives
# ticks PID (user + system CPU, in clock ticks) and hz.
private_serve() {
  local name="$1"; shift
  work="$(mktemp -d "/tmp/joopang-$name.XXXXXX")"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  token="$name-token"
  "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:$port --admin-token "$token" \
      --auth-secret "$name-secret-0123456789abcdef" --log-level warn "$@" > "$work/log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 1 200); do curl -sf localhost:$port/readyz >/dev/null && break; sleep 0.05; done
  admin=(-H "Authorization: Bearer $token")
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
