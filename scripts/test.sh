#!/usr/bin/env bash
# Runs the whole test suite: installs ffmpeg, PostgreSQL and the S3 server if missing, starts
# PostgreSQL and S3 on loopback, runs every test in the workspace, fuzzes the API
# (scripts/fuzz-api.sh), runs the browser tests, and stops the services again.
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
