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

build_dir="${JOOPANG_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${JOOPANG_BUILD_TYPE:-Release}" >/dev/null
cmake --build "$build_dir" -j "${JOOPANG_BUILD_JOBS:-2}"
