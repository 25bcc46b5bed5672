#!/usr/bin/env bash
# Runs the whole test suite: installs ffmpeg, PostgreSQL and the S3 server if missing, starts
# PostgreSQL and S3 on loopback, runs every test in the workspace, fuzzes the API
# (scripts/fuzz-api.sh), runs the browser tests, checks that the generated clients are current and
# exercises them (scripts/gen-clients.sh, scripts/test-clients.sh), and stops the services again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap stop_services EXIT
start_services
cargo test --workspace --all-targets "$@"
# schemathesis over every operation of /openapi.json against the real server: SQLite (about two
# minutes), then a shorter run on PostgreSQL.
scripts/fuzz-api.sh
FUZZ_MAX_EXAMPLES=50 scripts/fuzz-api.sh --postgres
# The web UI in headless Chromium against the real server binary.
cargo build -p mediaserver
(cd tests/browser && node --test --test-reporter=spec)
# The typed clients: regenerated from the built server's /openapi.json they must equal what is
# committed, and each one works against a running server.
scripts/gen-clients.sh --check
scripts/test-clients.sh
