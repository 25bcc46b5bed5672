#!/usr/bin/env bash
# Load test (a script to rerun, not a timed test): UPLOADERS concurrent uploads of short generated
# clips (each uploader uploads, waits until its item is ready, uploads the next) + PLAYERS
# concurrent players fetching HLS playlists and segments of ready items + the transcodes those
# uploads cause, for DURATION seconds; then the last uploads get DRAIN seconds to finish.
# Reports errors (expected: 0), uploads and how many became ready, p50/p99 latency per kind of
# request, and the server's RSS (VmRSS sampled each second from /proc, and VmHWM at the end).
#
# Usage: bench/load.sh [DURATION_S] [UPLOADERS] [PLAYERS]        (defaults: 300 50 200)
#   DRAIN=300          seconds the last uploads get to become ready after DURATION
#   URL=http://host:port EMAIL=… PASSWORD=…   use that running server (an account on it; its
#                      items are made public) instead of starting a release build with embedded
#                      defaults (SQLite + Local storage, WORKERS as set, default 1);
#                      SERVER_PID=… to report its RSS
#   CLIP_SECONDS=2 CLIP_SIZE=320x240    the generated clips (ffmpeg lavfi; five different ones)
# Needs ffmpeg, curl and Python 3 with aiohttp (installed into a venv under ~/.cache if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-300}"
UPLOADERS="${2:-50}"
PLAYERS="${3:-200}"
DRAIN="${DRAIN:-300}"
CLIP_SECONDS="${CLIP_SECONDS:-2}"
CLIP_SIZE="${CLIP_SIZE:-320x240}"

command -v ffmpeg >/dev/null || scripts/install-deps.sh --server-only
PY=python3
if ! $PY -c 'import aiohttp' 2>/dev/null; then
  VENV="${XDG_CACHE_HOME:-$HOME/.cache}/mediaserver-bench-venv"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -c 'import aiohttp' 2>/dev/null || "$VENV/bin/pip" install -q 'aiohttp>=3.9,<4'
  PY="$VENV/bin/python"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mediaserver-load.XXXXXX")"
trap '[ -n "${OWN_PID:-}" ] && kill "$OWN_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

EMAIL="${EMAIL:-load@example.com}"
PASSWORD="${PASSWORD:-load-benchmark-password}"
if [ -z "${URL:-}" ]; then
  cargo build --release -q -p mediaserver
  BIN="${CARGO_TARGET_DIR:-target}/release/mediaserver"
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  DATA_DIR="$WORK/data" HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL="${LOG_LEVEL:-warn}" "$BIN" serve 2>"$WORK/server.log" &
  OWN_PID=$!
  SERVER_PID=$OWN_PID
  URL="http://127.0.0.1:$PORT"
  for _ in $(seq 1 100); do curl -fs "$URL/healthz" >/dev/null && break; sleep 0.1; done
  curl -fsS -X POST "$URL/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" >/dev/null
fi
TOKEN="$(curl -fsS -X POST "$URL/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

# Five different short clips (video + audio), so uploads are not all the same bytes.
CLIPS=()
for i in 1 2 3 4 5; do
  ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=size=$CLIP_SIZE:rate=25:duration=$CLIP_SECONDS" \
    -f lavfi -i "sine=frequency=$((200 * i)):duration=$CLIP_SECONDS" -vf "hue=h=$((i * 60))" \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "$WORK/clip-$i.mp4"
  CLIPS+=("$WORK/clip-$i.mp4")
done

# One ready public item so players have something to play from the first second.
SEED="$(curl -fsS -X POST "$URL/v1/media?filename=seed.mp4" -H "authorization: Bearer $TOKEN" -T "$WORK/clip-1.mp4" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
curl -fsS -X PATCH "$URL/v1/media/$SEED" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"visibility":"public"}' >/dev/null
for _ in $(seq 1 600); do
  status="$(curl -fsS "$URL/v1/media/$SEED" -H "authorization: Bearer $TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
  [ "$status" = ready ] && break
  [ "$status" = failed ] && { echo "the seed item failed" >&2; exit 1; }
  sleep 0.5
done

echo "load: ${DURATION}s, $UPLOADERS uploaders, $PLAYERS players, against $URL" >&2
"$PY" bench/load.py --url "$URL" --token "$TOKEN" --clips "${CLIPS[@]}" --duration "$DURATION" \
  --uploaders "$UPLOADERS" --players "$PLAYERS" --drain "$DRAIN" --seed "$SEED" \
  ${SERVER_PID:+--pid "$SERVER_PID"} > "$WORK/result.json"

HWM=""
if [ -n "${SERVER_PID:-}" ] && [ -r "/proc/$SERVER_PID/status" ]; then
  HWM="$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status")"
fi
"$PY" - "$WORK/result.json" "$HWM" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
hwm = sys.argv[2]
print(f"elapsed {r['elapsed_s']} s; uploads {r['uploads']}, ready {r['ready']}, failed {len(r['failed'])}, "
      f"unfinished {r['unfinished']}; errors {r['errors']}")
for e in r["error_sample"]:
    print("  error:", e)
for mid, err in list(r["failed"].items())[:5]:
    print("  failed item:", mid, err)
print()
print("| request | count | errors | p50 (ms) | p99 (ms) |")
print("|---|---|---|---|---|")
for kind, k in r["requests"].items():
    print(f"| {kind} | {k['requests']} | {k['errors']} | {k['p50_ms']} | {k['p99_ms']} |")
if r["rss_mib"]:
    print()
    print(f"server RSS: peak sampled {r['rss_mib']['peak']} MiB, at the end {r['rss_mib']['last']} MiB"
          + (f", VmHWM {hwm} MiB" if hwm else ""))
PY
[ "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["errors"] == 0 and r["ready"] == r["uploads"])' "$WORK/result.json")" = True ]
