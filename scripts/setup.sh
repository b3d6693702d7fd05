#!/usr/bin/env bash
# Installs what joopang needs from Debian 12 packages (only what is missing), then configures and
# builds it (CMake + Ninja + ccache, Release). Safe to run again; it is a no-op when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev libhiredis-dev libsqlite3-dev libpq-dev libssl-dev
  libcli11-dev libspdlog-dev libfmt-dev libjemalloc-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  redis-server redis-tools postgresql postgresql-client sqlite3
  python3 wrk nginx-light curl procps
  chromium firefox-esr gnuplot-nox
  clang-14 libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The distribution's redis-server/postgresql/nginx services are not used: joopang and its tests
# start private servers on their own ports.

# Front-end packages from the npm registry, pinned by web/package-lock.json: uPlot (embedded into
# the binary for /dashboard) and puppeteer-core (drives the chromium and firefox-esr above in the
# browser test; it downloads no browser). Installed again only when the lock file changed. Node.js 20 is expected
# on the machine; without any Node.js, Debian's is installed.
if ! command -v npm >/dev/null; then
  echo "setup: installing nodejs npm"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends nodejs npm
fi
if [ ! web/node_modules/.package-lock.json -nt web/package-lock.json ]; then
  npm ci --prefix web --no-audit --no-fund --loglevel=error
fi

build_dir="${JOOPANG_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${JOOPANG_BUILD_TYPE:-Release}" >/dev/null
cmake --build "$build_dir" -j "${JOOPANG_BUILD_JOBS:-2}"
