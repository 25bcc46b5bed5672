#!/usr/bin/env bash
# Checks that the workspace builds with the `rust-version` Cargo.toml declares (the oldest Rust
# the locked dependencies and our code accept), so the README's promise stays true. A type check
# (`cargo check`, no codegen, libraries and the binary only) in its own target directory, so it
# does not evict the main build's cache. Installs that toolchain with rustup (minimal profile) when
# missing. Usage: scripts/check-msrv.sh   (MSRV_TARGET_DIR: another target directory than
# target/msrv, e.g. one a previous run left)
set -euo pipefail
cd "$(dirname "$0")/.."
msrv=$(sed -n 's/^rust-version = "\([0-9.]*\)"$/\1/p' Cargo.toml | head -n1)
[ -n "$msrv" ] || { echo "no rust-version in Cargo.toml" >&2; exit 1; }
if ! command -v rustup >/dev/null 2>&1; then
  echo "check-msrv: rustup not found; cannot install Rust $msrv" >&2
  exit 1
fi
rustup toolchain list | grep -q "^$msrv" \
  || rustup toolchain install "$msrv" --profile minimal --no-self-update
echo "checking with Rust $msrv (rust-version in Cargo.toml)" >&2
CARGO_TARGET_DIR="${MSRV_TARGET_DIR:-target/msrv}" cargo "+$msrv" check --workspace --locked --quiet
