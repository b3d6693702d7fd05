#!/usr/bin/env bash
# What the dashboard's polling costs: CPU time of joopang (and of its Redis) per answer of
# GET /api/v1/admin/dashboard, measured over N back-to-back polls after some traffic (a drop, a
# ranking, a waiting line), and the same process idle over the same wall time as the reference.
#   bash scripts/dashboard_cost.sh [polls=2000] [max % of a core]     (after scripts/setup.sh)
# With a maximum (ctest's dashboard_cost passes 1), it fails when polling once a second would cost
# joopang more than that share of a core. JOOPANG_BIN names the binary (else the build's).
set -euo pipefail
cd "$(dirname "$0")/.."
polls="${1:-2000}"
max_percent="${2:-}"
bin="${JOOPANG_BIN:-$PWD/${JOOPANG_BUILD_DIR:-build}/src/main/joopang}"
source scripts/private_serve.sh
private_serve dashboard-cost
redis_pid=$(cat "$work/data/redis/redis.pid")
# Something to show: a drop with winners, a paid order, a line of waiting users.
curl -sf "${admin[@]}" -XPOST localhost:$port/api/v1/coupon-templates \
  -d '{"title":"cost","type":"AMOUNT","value":"1000.00","totalQuantity":1000}' >/dev/null
curl -sf "${admin[@]}" -XPOST localhost:$port/api/v1/products \
  -d '{"name":"Cost hoodie","code":"C-1","price":"10.00","items":[{"name":"L","code":"L","unitPrice":"10.00","stock":1000}]}' >/dev/null
curl -sf "${admin[@]}" -XPATCH localhost:$port/api/v1/admin/queue -d '{"paused":true}' >/dev/null
for u in $(seq 1 50); do
  curl -sf "${admin[@]}" -XPOST localhost:$port/api/v1/users -d "{\"email\":\"u$u@example.com\",\"password\":\"password-$u\",\"firstName\":\"U\",\"lastName\":\"$u\",\"balance\":\"100.00\"}" >/dev/null
  curl -sf "${admin[@]}" -XPOST localhost:$port/api/v1/coupon-templates/1/issue -d "{\"userId\":$u}" >/dev/null
  curl -sf "${admin[@]}" -XPOST localhost:$port/api/v1/queue/tokens -d "{\"userId\":$u}" >/dev/null
done
sleep 2
url="http://127.0.0.1:$port/api/v1/admin/dashboard?metric=score"
# Reference: the same processes idle (their jobs only) for as long as the polls take.
start=$(date +%s.%N)
j0=$(ticks $pid); r0=$(ticks "$redis_pid")
# curl sends the polls one after another on one kept-alive connection.
# Each poll's options (a `next` starts a poll's own set), its status code written out.
group='url = "%s"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\nheader = "Authorization: Bearer %s"\n'
printf "$group" "$url" "$token" > "$work/curl.cfg"
for _ in $(seq 2 "$polls"); do printf "next\n$group" "$url" "$token"; done >> "$work/curl.cfg"
curl -s -K "$work/curl.cfg" > "$work/codes"
j1=$(ticks $pid); r1=$(ticks "$redis_pid")
took=$(echo "$(date +%s.%N) - $start" | bc)
sleep "$took"
j2=$(ticks $pid); r2=$(ticks "$redis_pid")
answer=$(curl -sf -H "Authorization: Bearer $token" "$url")
bytes=${#answer}
# The answer shows what was made above (else the figure would be of an empty page).
echo "$answer" | grep -q '"reserved":50' || { echo "the drop is missing from the answer"; exit 1; }
echo "$answer" | grep -q '"waiting":50' || { echo "the line is missing from the answer"; exit 1; }
ok=$(grep -c '^200$' "$work/codes" || true)
[ "$ok" = "$polls" ] || { echo "only $ok of $polls polls answered 200: $(sort "$work/codes" | uniq -c)"; exit 1; }
awk -v p="$polls" -v hz="$hz" -v t="$took" -v j="$((j1 - j0))" -v r="$((r1 - r0))" \
    -v ji="$((j2 - j1))" -v ri="$((r2 - r1))" -v b="$bytes" 'BEGIN {
  jp = (j - ji) / hz / p * 1000; rp = (r - ri) / hz / p * 1000
  printf "%d polls in %.1f s (answer %d bytes)\n", p, t, b
  printf "joopang: %.2f s CPU polled vs %.2f s idle over the same time: %.3f ms per poll\n", j / hz, ji / hz, jp
  printf "redis:   %.2f s CPU polled vs %.2f s idle: %.3f ms per poll\n", r / hz, ri / hz, rp
  printf "polled once a second: joopang %.2f %% of a core, redis %.2f %%\n", jp / 10, rp / 10
  printf "%f\n", jp / 10 > "/dev/stderr" }' 2> "$work/percent"
if [ -n "$max_percent" ]; then
  awk -v got="$(cat "$work/percent")" -v max="$max_percent" 'BEGIN {
    if (got > max) { printf "FAIL: %.3f %% of a core is over %s %%\n", got, max; exit 1 }
    printf "PASS: %.3f %% of a core, at most %s %%\n", got, max }'
fi
