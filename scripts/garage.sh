#!/usr/bin/env bash
# A throwaway S3-compatible object store: Garage 2.5.0 (a production distributed object store,
# from the Rust crates registry), as a single-node cluster on loopback, for the object-storage
# work of issue 18 and for trying it by hand:
#   bash scripts/garage.sh start DIR   config, data and metadata in DIR; a layout of one node,
#                                      bucket `tombstone`, one key allowed to read and write it;
#                                      prints the environment an S3 client needs (also in DIR/env)
#   bash scripts/garage.sh halt DIR    stop the server, keeping its data (a store that went away)
#   bash scripts/garage.sh resume DIR  start it again on the same port, with the same data
#   bash scripts/garage.sh stop DIR    stop it and remove DIR
# The first start builds Garage into ~/.cargo/bin (`cargo install --locked`, about 14 minutes
# on 2 cores); later starts reuse it.
set -euo pipefail
cmd=${1:?usage: garage.sh start|halt|resume|stop DIR}
dir=${2:?usage: garage.sh start|halt|resume|stop DIR}
version=2.5.0
garage="$HOME/.cargo/bin/garage"
# Start the server of the config in $dir and wait until its S3 port answers.
serve() {
  "$garage" -c "$dir/garage.toml" server >>"$dir/server.log" 2>&1 &
  echo $! >"$dir/pid"
  local port
  port=$(awk -F'"' '/^api_bind_addr/ {print $2; exit}' "$dir/garage.toml" | cut -d: -f2)
  for _ in $(seq 1 100); do
    "$garage" -c "$dir/garage.toml" status >/dev/null 2>&1 &&
      python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$port" 2>/dev/null &&
      return 0
    sleep 0.1
  done
  echo "garage.sh: the server in $dir did not come up (see $dir/server.log)" >&2
  return 1
}
halt() {
  if [ -f "$dir/pid" ]; then
    kill "$(cat "$dir/pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.1
    done
  fi
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
case "$cmd" in
start)
  if ! "$garage" --version 2>/dev/null | grep -q "$version"; then
    cargo install --locked --quiet "garage@$version"
  fi
  mkdir -p "$dir/meta" "$dir/data"
  dir=$(cd "$dir" && pwd)
  s3=$(free_port)
  rpc=$(free_port)
  admin=$(free_port)
  secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
  cat >"$dir/garage.toml" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$secret"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin"
TOML
  chmod 0600 "$dir/garage.toml"
  g() { "$garage" -c "$dir/garage.toml" "$@"; }
  serve
  node=$(g node id -q 2>/dev/null | cut -d@ -f1)
  g layout assign -z dc1 -c 1G "$node" >/dev/null
  g layout apply --version 1 >/dev/null
  g bucket create tombstone >/dev/null
  key=$(g key create tombstone-key)
  id=$(printf '%s\n' "$key" | awk -F': *' '/Key ID/ {print $2}')
  secret_key=$(printf '%s\n' "$key" | awk -F': *' '/Secret key/ {print $2}')
  g bucket allow --read --write --owner tombstone --key tombstone-key >/dev/null
  {
    echo "AWS_ACCESS_KEY_ID=$id"
    echo "AWS_SECRET_ACCESS_KEY=$secret_key"
    echo "AWS_ENDPOINT_URL=http://127.0.0.1:$s3"
    echo "AWS_REGION=garage"
    echo "TOMBSTONE_TEST_BUCKET=tombstone"
  } >"$dir/env"
  chmod 0600 "$dir/env"
  cat "$dir/env"
  ;;
halt)
  dir=$(cd "$dir" && pwd)
  halt
  ;;
resume)
  dir=$(cd "$dir" && pwd)
  serve
  ;;
stop)
  halt
  rm -rf "$dir"
  ;;
*)
  echo "usage: garage.sh start|halt|resume|stop DIR" >&2
  exit 2
  ;;
esac
