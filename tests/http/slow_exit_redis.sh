#!/usr/bin/env bash
# A redis-server that takes 1.5 s to exit after SIGTERM, as one finishing a large AOF write does
# (test_chaos.py passes it as --redis-server-binary). Arguments go to the real redis-server.
redis-server "$@" &
child=$!
trap 'sleep 1.5; kill -TERM "$child"; wait "$child"; exit 0' TERM
wait "$child"
