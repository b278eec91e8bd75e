#!/usr/bin/env bash
# A throwaway Redis server for tests and the load script, listening only on 127.0.0.1.
#   scripts/redis.sh start [DIR]   start redis-server on a free port with DIR (default: a new temp dir)
#                                  as its working directory; prints the URL on stdout.
#                                  REDIS_PASSWORD, when set, is required from clients.
#   scripts/redis.sh stop DIR      stop the server and delete DIR
# Nothing is persisted: no RDB snapshots, no append-only file.
set -euo pipefail

usage() { echo "usage: $0 start [DIR] | stop DIR" >&2; exit 2; }

command -v redis-server >/dev/null \
  || { echo "Redis is not installed (scripts/system_deps.sh installs it)" >&2; exit 1; }
python=$(command -v python3 || echo "$(dirname "$0")/../.venv/bin/python")

case "${1:-}" in
  start)
    dir=${2:-$(mktemp -d -t antifraud-redis.XXXXXX)}
    mkdir -p "$dir"
    port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # The configuration goes in through stdin so a password never shows in `ps`.
    config="bind 127.0.0.1
port $port
dir $dir
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
save \"\"
appendonly no"
    auth=""
    if [ -n "${REDIS_PASSWORD:-}" ]; then
      config+=$'\n'"requirepass ${REDIS_PASSWORD}"
      auth=":${REDIS_PASSWORD}@"
    fi
    printf "%s\n" "$config" | redis-server - >/dev/null \
      || { cat "$dir/redis.log" >&2 2>/dev/null; exit 1; }
    for _ in $(seq 1 100); do
      if REDISCLI_AUTH="${REDIS_PASSWORD:-}" redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "redis://${auth}127.0.0.1:$port/0"
        exit 0
      fi
      sleep 0.1
    done
    cat "$dir/redis.log" >&2 2>/dev/null
    echo "redis-server did not answer on 127.0.0.1:$port" >&2
    exit 1
    ;;
  stop)
    dir=${2:-}
    [ -n "$dir" ] || usage
    if [ -f "$dir/redis.pid" ]; then
      pid=$(cat "$dir/redis.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
    rm -rf "$dir"
    ;;
  *)
    usage
    ;;
esac
