#!/usr/bin/env bash
# A throwaway PostgreSQL server (Debian's packages, scripts/setup-test-deps.sh) for the
# catalog tests (TLS on TCP with a throwaway CA in DIR/ca.crt), or for trying the catalog by hand:
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
  # TLS on TCP: a throwaway CA (DIR/ca.crt, for clients' sslrootcert) and a server certificate
  # for the name localhost only, so verify-full to 127.0.0.1 fails as it should.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=git-tombstone test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  chmod 0600 "$dir/server.key" "$dir/ca.key"
  [ "$(id -u)" -ne 0 ] || chown postgres "$dir/server.key" "$dir/server.crt"
  as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=50 -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key -c log_connections=on" start >/dev/null
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
