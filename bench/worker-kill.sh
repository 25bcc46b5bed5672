#!/usr/bin/env bash
# Crash recovery: SIGKILLs the `mediaserver worker` encoding a 40 s 720p clip and reports how long
# the job waited for a second worker to claim it (the lease, JOB_LEASE_SECONDS), and that the
# second worker finished it. SQLite + Local storage shared by the two worker processes.
# Usage: bench/worker-kill.sh   (BIN=path/to/mediaserver to measure another build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then
  cargo build -q -p mediaserver
  BIN="${CARGO_TARGET_DIR:-target}/debug/mediaserver"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mediaserver-kill.XXXXXX")"
trap 'kill ${SERVER_PID:-} ${FIRST:-} ${SECOND:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
export DATA_DIR="$WORK/data" TRANSCODE_PRESET=ultrafast LOG_LEVEL=warn

ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=30:duration=40 \
  -f lavfi -i sine=frequency=300:duration=40 -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
  -c:a aac -shortest "$WORK/clip.mp4"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
WORKERS=0 HOST=127.0.0.1 PORT="$PORT" "$BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -fs "$URL/healthz" >/dev/null && break; sleep 0.1; done
AUTH='{"email":"bench@example.com","password":"benchmark-password"}'
curl -fs -X POST "$URL/v1/auth/register" -H 'content-type: application/json' -d "$AUTH" >/dev/null
TOKEN="$(curl -fs -X POST "$URL/v1/auth/login" -H 'content-type: application/json' -d "$AUTH" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
ID="$(curl -fs -H "authorization: Bearer $TOKEN" -F "file=@$WORK/clip.mp4" "$URL/v1/media" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"

# The job's lease owner and attempts, straight from the database.
job() {
  python3 -c "import sqlite3,sys; r=sqlite3.connect('$DATA_DIR/mediaserver.db').execute('select coalesce(lease_owner, \"\"), attempts, status from jobs where media_id = ?', (sys.argv[1],)).fetchone(); print(*r)" "$ID"
}
status() { curl -fs -H "authorization: Bearer $TOKEN" "$URL/v1/media/$ID" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["status"], m["progress"])'; }

"$BIN" worker >"$WORK/first.log" 2>&1 &
FIRST=$!
until [ "$(status | cut -d' ' -f2)" -gt 10 ] 2>/dev/null; do sleep 0.2; done
OWNER="$(job | cut -d' ' -f1)"
"$BIN" worker >"$WORK/second.log" 2>&1 &
SECOND=$!
sleep 1
kill -9 "$FIRST"
KILLED=$(date +%s.%N)
echo "killed the worker holding the job at $(status | cut -d' ' -f2) %"
while [ "$(job | cut -d' ' -f1)" = "$OWNER" ]; do sleep 0.1; done
CLAIMED=$(date +%s.%N)
echo "claimed by the other worker $(python3 -c "print(f'{$CLAIMED - $KILLED:.1f}')") s after SIGKILL (attempt $(job | cut -d' ' -f2))"
until [ "$(status | cut -d' ' -f1)" = ready ] || [ "$(status | cut -d' ' -f1)" = failed ]; do sleep 0.5; done
echo "item $(status | cut -d' ' -f1) $(python3 -c "import time; print(f'{time.time() - $KILLED:.1f}')") s after SIGKILL"
