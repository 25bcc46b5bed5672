#!/usr/bin/env bash
# Generates the typed API clients from the server's OpenAPI document:
#   clients/openapi.json                 the document, as the built server serves it
#   clients/typescript/src/schema.d.ts   openapi-typescript (npm; used with openapi-fetch)
#   clients/python/mediaserver_client/   openapi-python-client (PyPI)
# Both generators are pinned (clients/typescript/package-lock.json, scripts/install-deps.sh), so
# the output is the same on every machine: CI runs this and fails on `git diff --exit-code
# clients/` (scripts/test.sh). Run it after changing a route or a schema, and commit the result.
#
# Usage: scripts/gen-clients.sh [--check]   (--check: fail if the committed clients differ)
# Needs target/debug/mediaserver (cargo build -p mediaserver) and scripts/install-deps.sh's tools.
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
[ "${1:-}" = "--check" ] && check=true

# shellcheck source=scripts/clients-server.sh
source scripts/clients-server.sh
trap stop_client_server EXIT
start_client_server
# Pretty-printed with sorted keys: a stable, reviewable diff.
curl -fsS "$CLIENT_SERVER_URL/openapi.json" \
  | python3 -c 'import json, sys; json.dump(json.load(sys.stdin), sys.stdout, indent=2, sort_keys=True); print()' \
  > clients/openapi.json
stop_client_server

(cd clients/typescript && npx --no-install openapi-typescript ../openapi.json -o src/schema.d.ts --silent)

rm -rf clients/python/mediaserver_client
openapi-python-client generate --path clients/openapi.json --meta none \
  --config clients/python/generator.yml --output-path clients/python/mediaserver_client \
  --overwrite >/dev/null

# What was generated against what is committed (or staged): changed files, and new ones.
if $check && { ! git --no-pager diff --exit-code --stat -- clients/ >&2 \
    || [ -n "$(git ls-files --others --exclude-standard -- clients/)" ]; }; then
  git ls-files --others --exclude-standard -- clients/ >&2
  echo "the generated clients are not current: run scripts/gen-clients.sh and commit clients/" >&2
  exit 1
fi
