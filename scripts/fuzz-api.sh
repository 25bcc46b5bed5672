#!/usr/bin/env bash
# Fuzzes the HTTP API with schemathesis against the real server: every operation of the served
# /openapi.json, every check, the examples, coverage, fuzzing and stateful phases, deterministic
# generation (the same requests every run) and a bounded number of examples (a few minutes on
# 2 cores). scripts/fuzz-api.toml says which answers are right where a schema cannot say it;
# scripts/fuzz-api-hooks.py teaches schemathesis tus's body type. Exits non-zero on any failure and
# says where the report is. scripts/test.sh runs it after the Rust tests.
#
# The server runs with its embedded defaults (SQLite and local storage in a temporary directory,
# no workers) on a free loopback port; with --postgres (or MEDIASERVER_FUZZ_PG_URL set) it uses
# that PostgreSQL database instead (scripts/services.sh's start_services exports one). A fresh
# account (the first, so an admin) is registered and its API key is the bearer token.
#
# Usage: scripts/fuzz-api.sh [--postgres] [-- extra schemathesis arguments]
#   MEDIASERVER_BIN             server binary (default: target/debug/mediaserver, built if missing)
#   FUZZ_MAX_EXAMPLES           examples per operation and phase (default 150: about 2 minutes here)
#   FUZZ_REPORT_DIR             where reports go (default: target/fuzz-api/<backend>)
# A failure: the output (also in the report directory, with a JUnit file and the server's log)
# names the operation, the check, the response, and a curl command that reproduces it; the run
# is deterministic, so running this script again repeats it.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

backend=sqlite
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) backend=postgres; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: $0 [--postgres] [-- schemathesis args]" >&2; exit 2 ;;
  esac
done
pg_url="${MEDIASERVER_FUZZ_PG_URL:-${MEDIASERVER_TEST_PG_URL:-}}"
if [ "$backend" = postgres ] && [ -z "$pg_url" ]; then
  echo "fuzz-api: --postgres needs MEDIASERVER_TEST_PG_URL (source scripts/services.sh && start_services)" >&2
  exit 2
fi

if ! command -v schemathesis >/dev/null 2>&1; then
  echo "fuzz-api: schemathesis is not installed; run scripts/install-deps.sh" >&2
  exit 2
fi

bin="${MEDIASERVER_BIN:-$root/target/debug/mediaserver}"
if [ -z "${MEDIASERVER_BIN:-}" ]; then
  cargo build -q -p mediaserver
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/mediaserver-fuzz.XXXXXX")"
report_dir="${FUZZ_REPORT_DIR:-$root/target/fuzz-api/$backend}"
rm -rf "$report_dir"
mkdir -p "$report_dir"
server_pid=""
db=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$db" ]; then
    PGOPTIONS='--client-min-messages=warning' psql "${pg_url%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null || true
  fi
  # Keep the server log with the report; the data directory goes.
  [ -f "$work/server.log" ] && cp "$work/server.log" "$report_dir/server.log"
  rm -rf "$work"
}
trap cleanup EXIT

env_args=(
  HOST=127.0.0.1 PORT=0 DATA_DIR="$work/data" WORKERS=0 LOG_FORMAT=text LOG_LEVEL=warn,mediaserver=info
  ALLOW_REGISTRATION=true
  # Viewer beacons are rate limited per address (all of the fuzzer's come from one): a budget it
  # never reaches, so that their checks are fuzzed rather than answered 429.
  BEACONS_PER_MINUTE=1000000
)
if [ "$backend" = postgres ]; then
  # A database of its own, so the run starts empty and leaves the tests' databases alone.
  db="mediaserver_fuzz_$$"
  PGOPTIONS='--client-min-messages=warning' psql "${pg_url%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  env_args+=(DATABASE_URL="${pg_url%/*}/$db" JWT_SECRET="fuzz-api-jwt-secret-0123456789abcdef")
fi
env "${env_args[@]}" "$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!

base=""
for _ in $(seq 1 300); do
  base="$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$work/server.log" | head -1 | sed 's/listening on //')" || true
  [ -n "$base" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "fuzz-api: the server exited before listening:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "fuzz-api: the server did not start listening in 30 s" >&2
  cat "$work/server.log" >&2
  exit 1
fi

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
email="fuzz-admin@example.com"
password="fuzz-password-$$-$RANDOM"
curl -fsS -X POST "$base/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" >/dev/null
access="$(curl -fsS -X POST "$base/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | json_field access_token)"
# An API key: it does not expire during the run, and no logout the fuzzer sends can end it.
key="$(curl -fsS -X POST "$base/v1/api-keys" -H "authorization: Bearer $access" \
  -H 'content-type: application/json' -d '{"name":"fuzz"}' | json_field key)"

echo "fuzz-api: schemathesis against $base ($backend), report in $report_dir" >&2
status=0
SCHEMATHESIS_HOOKS="$root/scripts/fuzz-api-hooks.py" \
  schemathesis --config-file "$root/scripts/fuzz-api.toml" run "$base/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${FUZZ_MAX_EXAMPLES:-150}" \
  --generation-deterministic \
  --workers 1 \
  --request-timeout 30 \
  --no-color \
  --report junit,ndjson --report-dir "$report_dir" \
  --report-junit-path "$report_dir/junit.xml" --report-ndjson-path "$report_dir/events.ndjson" \
  "${extra[@]}" 2>&1 | tee "$report_dir/output.txt" || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "fuzz-api: the server died during the run; its log: $report_dir/server.log" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "fuzz-api: FAILED ($backend). Output: $report_dir/output.txt; JUnit: $report_dir/junit.xml; server log: $report_dir/server.log" >&2
  exit "$status"
fi
echo "fuzz-api: passed ($backend); report in $report_dir" >&2
