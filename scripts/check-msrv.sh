#!/usr/bin/env bash
# Checks that the workspace builds with the `rust-version` Cargo.toml declares (the oldest Rust
# the locked dependencies and our code accept), so the README's promise stays true:
# 1. no locked dependency declares a newer rust-version (cargo metadata; always runs);
# 2. our own code uses no std API newer than it: clippy's `incompatible_msrv` lint, which reads
#    rust-version and which .ci/run's `cargo clippy -- -D warnings` already denies;
# 3. a type check with that very toolchain (`cargo +MSRV check`, its own target directory so the
#    main cache stays) — when rustup has it or can fetch it. Machines that can fetch no other
#    toolchain (this project's CI among them) skip this step with a notice; 1 and 2 still hold.
# Usage: scripts/check-msrv.sh   (MSRV_TARGET_DIR: another target directory than target/msrv)
set -euo pipefail
cd "$(dirname "$0")/.."
msrv=$(sed -n 's/^rust-version = "\([0-9.]*\)"$/\1/p' Cargo.toml | head -n1)
[ -n "$msrv" ] || { echo "no rust-version in Cargo.toml" >&2; exit 1; }

cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
msrv = tuple(int(x) for x in sys.argv[1].split("."))
def ver(s):
    parts = [int(x) for x in s.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))
meta = json.load(sys.stdin)
too_new = sorted(
    "%s %s needs Rust %s" % (p["name"], p["version"], p["rust_version"])
    for p in meta["packages"]
    if p.get("rust_version") and ver(p["rust_version"]) > ver(sys.argv[1])
)
if too_new:
    sys.exit("rust-version " + sys.argv[1] + " in Cargo.toml is older than the locked dependencies need:\n  " + "\n  ".join(too_new))
print("check-msrv: every locked dependency accepts Rust " + sys.argv[1], file=sys.stderr)
' "$msrv"

if ! command -v rustup >/dev/null 2>&1; then
  echo "check-msrv: no rustup here; the build with Rust $msrv itself is skipped" >&2
  exit 0
fi
if ! rustup toolchain list | grep -q "^$msrv"; then
  if ! rustup toolchain install "$msrv" --profile minimal --no-self-update >/dev/null 2>&1; then
    echo "check-msrv: Rust $msrv cannot be installed on this machine; the build with it is skipped" >&2
    exit 0
  fi
fi
echo "check-msrv: type-checking with Rust $msrv" >&2
CARGO_TARGET_DIR="${MSRV_TARGET_DIR:-target/msrv}" cargo "+$msrv" check --workspace --locked --quiet
