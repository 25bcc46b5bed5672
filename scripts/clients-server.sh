#!/usr/bin/env bash
# Sourced by scripts/gen-clients.sh and scripts/test-clients.sh: starts the built server
# (target/debug/mediaserver, or $MEDIASERVER_BIN) on a free loopback port with a throwaway data
# directory, SQLite and local storage. `start_client_server` sets CLIENT_SERVER_URL;
# `stop_client_server` stops it and removes its data. Extra environment: the arguments
# (NAME=value ...).

start_client_server() {
  local bin="${MEDIASERVER_BIN:-$PWD/target/debug/mediaserver}"
  [ -x "$bin" ] || { echo "$bin is missing: run \`cargo build -p mediaserver\` first" >&2; return 1; }
  CLIENT_SERVER_DIR="$(mktemp -d)"
  : >"$CLIENT_SERVER_DIR/log"
  env DATA_DIR="$CLIENT_SERVER_DIR" HOST=127.0.0.1 PORT=0 WORKERS=1 TRANSCODE_PRESET=ultrafast \
    NO_COLOR=1 RUST_LOG=info "$@" "$bin" serve >"$CLIENT_SERVER_DIR/log" 2>&1 &
  CLIENT_SERVER_PID=$!
  local i
  for i in $(seq 1 300); do
    CLIENT_SERVER_URL="$(sed -n 's/.*listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$CLIENT_SERVER_DIR/log" | head -n1)"
    [ -n "$CLIENT_SERVER_URL" ] && return 0
    kill -0 "$CLIENT_SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not start:" >&2
  cat "$CLIENT_SERVER_DIR/log" >&2
  return 1
}

stop_client_server() {
  if [ -n "${CLIENT_SERVER_PID:-}" ]; then
    kill "$CLIENT_SERVER_PID" 2>/dev/null || true
    wait "$CLIENT_SERVER_PID" 2>/dev/null || true
    CLIENT_SERVER_PID=
  fi
  [ -n "${CLIENT_SERVER_DIR:-}" ] && rm -rf "$CLIENT_SERVER_DIR"
  CLIENT_SERVER_DIR=
}
