#!/usr/bin/env bash
# Sets up, builds and runs every test (unit, integration against real redis-server, Redis Cluster,
# SQLite and PostgreSQL, and black-box HTTP tests against the built binary), then the fuzz targets
# of the input parsers for a bounded time each (tests/fuzz/run.sh; JOOPANG_FUZZ_SECONDS, default
# 30; 0 skips them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
(cd "${JOOPANG_BUILD_DIR:-build}" && ctest --output-on-failure --timeout 900 -j "${JOOPANG_TEST_JOBS:-2}" "$@")
if [ "${JOOPANG_FUZZ_SECONDS:-30}" != 0 ]; then
  bash tests/fuzz/run.sh "${JOOPANG_FUZZ_SECONDS:-30}"
fi
