#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, listening only on 127.0.0.1.
#   scripts/postgres.sh start [DIR]   initdb in DIR (default: a new temp dir), start it on a free
#                                     port, create database "antifraud"; prints the URL on stdout
#   scripts/postgres.sh stop DIR      stop the cluster and delete DIR
#   scripts/postgres.sh halt DIR      stop the server but keep DIR (an outage, for fault tests)
#   scripts/postgres.sh resume DIR    start a halted server again on the same port
# As root the server runs as the "postgres" OS user (PostgreSQL refuses to run as root).
set -euo pipefail

usage() { echo "usage: $0 start [DIR] | halt DIR | resume DIR | stop DIR" >&2; exit 2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] && command -v initdb >/dev/null; then
  bindir=$(dirname "$(command -v initdb)")
fi
[ -n "$bindir" ] || { echo "PostgreSQL is not installed (scripts/system_deps.sh installs it)" >&2; exit 1; }

python=$(command -v python3 || echo "$(dirname "$0")/../.venv/bin/python")

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# No Unix socket outside DIR, TCP on loopback only.
launch() {
  local dir=$1 port
  port=$(cat "$dir/port")
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
}

case "${1:-}" in
  start)
    dir=${2:-$(mktemp -d -t antifraud-pg.XXXXXX)}
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner bash -c 'umask 077 && printf "%s\n" "$1" > "$2/pwfile"' _ "$password" "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pwfile" \
      -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner rm -f "$dir/pwfile"
    as_owner bash -c 'printf "%s\n" "$1" > "$2/port"' _ "$port" "$dir"
    launch "$dir"
    PGPASSWORD=$password "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres antifraud
    echo "postgresql://postgres:$password@127.0.0.1:$port/antifraud"
    ;;
  halt)
    [ -n "${2:-}" ] || usage
    as_owner "$bindir/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null
    ;;
  resume)
    [ -n "${2:-}" ] || usage
    launch "$2"
    ;;
  stop)
    dir=${2:-}
    [ -n "$dir" ] || usage
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$dir"
    ;;
  *)
    usage
    ;;
esac
