#!/usr/bin/env bash
# A throwaway PostgreSQL server (Debian's packages, scripts/setup-test-deps.sh) for the
# catalog tests, or for trying the catalog by hand:
#   bash scripts/postgres.sh start DIR   initdb in DIR, listen on a Unix socket in DIR and on a
#                                        free port of 127.0.0.1; prints the environment to use
#   bash scripts/postgres.sh stop DIR    stop it and remove DIR
# Local (socket) connections are trusted; TCP ones need a password (scram-sha-256), so the
# tests can check that credentials never leak. The server runs as the `postgres` user when
# started by root (PostgreSQL refuses to run as root).
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}
bin=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -1 || true)
if [ -z "$bin" ]; then
  echo "postgres.sh: no PostgreSQL server; run scripts/setup-test-deps.sh" >&2
  exit 1
fi
as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
case "$cmd" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 0755 "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres "$dir"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_server "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log"
  as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=50" start >/dev/null
  echo "$port" >"$dir/port"
  echo "PGHOST=$dir PGPORT=$port PGUSER=postgres"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: postgres.sh start|stop DIR" >&2
  exit 2
  ;;
esac
