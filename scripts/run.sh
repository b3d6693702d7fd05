#!/usr/bin/env bash
# Sets up and starts joopang with its embedded defaults: data in ./data (SQLite + a private
# redis-server), HTTP on 127.0.0.1:8080. Extra arguments go to `joopang serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${JOOPANG_BUILD_DIR:-build}/src/main/joopang" serve "$@"
