#!/usr/bin/env bash
# Exercises the generated clients (scripts/gen-clients.sh) against the real server: one server
# (target/debug/mediaserver, SQLite, local storage, one worker), then the TypeScript client's
# test (type-checked by tsc, run by node) and the Python client's (unittest). Each registers,
# uploads a small video made with ffmpeg, waits until it is ready, lists, and fetches the HLS
# playlist its item names.
# Needs target/debug/mediaserver (cargo build -p mediaserver) and scripts/install-deps.sh's tools.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/clients-server.sh
source scripts/clients-server.sh
trap stop_client_server EXIT
# Both clients sign up.
start_client_server ALLOW_REGISTRATION=true
export MEDIASERVER_URL="$CLIENT_SERVER_URL"
(cd clients/typescript && npm test --silent)
PYTHONPATH=clients/python python3 -m unittest discover -s clients/python/tests -v
