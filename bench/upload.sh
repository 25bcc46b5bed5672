#!/usr/bin/env bash
# Upload benchmark: streams a 100 MiB and a 1 GiB file through POST /v1/media (raw body), and
# again through tus (/v1/uploads/, 8 MiB PATCHes), into a release build with embedded defaults
# (SQLite + Local storage), reporting wall time, throughput and the server's peak RSS (VmHWM),
# next to `dd` writing the same bytes to the same disk.
# Usage: bench/upload.sh [SIZES_MIB...]   (default: 100 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(100 1024)

command -v ffmpeg >/dev/null || scripts/install-deps.sh --server-only
cargo build --release -q -p mediaserver
BIN="${CARGO_TARGET_DIR:-target}/release/mediaserver"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mediaserver-bench.XXXXXX")"
trap 'kill ${SERVER_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT

# A real MP4 header so the upload is sniffed as video, padded with random bytes to size.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=320x240:duration=1 -c:v libx264 -preset ultrafast "$WORK/head.mp4"

start_server() {
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  rm -rf "$WORK/data"
  DATA_DIR="$WORK/data" HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL=warn "$BIN" serve &
  SERVER_PID=$!
  URL="http://127.0.0.1:$PORT"
  for _ in $(seq 1 100); do curl -fs "$URL/healthz" >/dev/null && break; sleep 0.1; done
  curl -fs -X POST "$URL/v1/auth/register" -H 'content-type: application/json' -d '{"email":"bench@example.com","password":"benchmark-password"}' >/dev/null
  TOKEN="$(curl -fs -X POST "$URL/v1/auth/login" -H 'content-type: application/json' -d '{"email":"bench@example.com","password":"benchmark-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
}

rss_peak_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status"; }
now() { date +%s.%N; }

echo "| size | upload wall (s) | upload MiB/s | server peak RSS (MiB) | tus wall (s) | tus MiB/s | tus peak RSS (MiB) | dd wall (s) | dd MiB/s | dd+fsync wall (s) | dd+fsync MiB/s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for MIB in "${SIZES[@]}"; do
  SRC="$WORK/src-$MIB.mp4"
  cp "$WORK/head.mp4" "$SRC"
  head -c "$((MIB * 1024 * 1024 - $(stat -c %s "$WORK/head.mp4")))" /dev/urandom >> "$SRC"
  sync
  start_server  # a fresh process per size, so each peak RSS stands alone

  t0=$(now)
  curl -fsS -X POST "$URL/v1/media?filename=bench.mp4" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/octet-stream' -T "$SRC" -o "$WORK/resp.json"
  t1=$(now)
  UP_S=$(python3 -c "print(f'{$t1-$t0:.2f}')")
  UP_RATE=$(python3 -c "print(f'{$MIB/($t1-$t0):.0f}')")
  RSS=$(rss_peak_mib)
  python3 - "$WORK/resp.json" "$SRC" <<'PY'
import hashlib, json, sys
item = json.load(open(sys.argv[1])); h = hashlib.sha256()
with open(sys.argv[2], 'rb') as f:
    for b in iter(lambda: f.read(1 << 20), b''): h.update(b)
assert item["sha256"] == h.hexdigest(), "sha256 mismatch"
PY

  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true

  t0=$(now)
  dd if="$SRC" of="$WORK/dd-copy" bs=8M status=none
  t1=$(now)
  DD_S=$(python3 -c "print(f'{$t1-$t0:.2f}')")
  DD_RATE=$(python3 -c "print(f'{$MIB/($t1-$t0):.0f}')")
  rm -f "$WORK/dd-copy"
  t0=$(now)
  dd if="$SRC" of="$WORK/dd-copy" bs=8M conv=fsync status=none
  t1=$(now)
  DDF_S=$(python3 -c "print(f'{$t1-$t0:.2f}')")
  DDF_RATE=$(python3 -c "print(f'{$MIB/($t1-$t0):.0f}')")
  rm -f "$WORK/dd-copy"

  # The same file through tus, 8 MiB per PATCH, in a fresh server process.
  # Timed from the creating POST to the last PATCH's answer, as curl times the plain upload;
  # the client's start-up and the checksum check stay outside.
  start_server
  TUS_S=$(python3 - "$URL" "$TOKEN" "$SRC" <<'PY'
import base64, hashlib, http.client, json, os, sys, time, urllib.parse
url, token, path = sys.argv[1:4]
t0 = time.monotonic()
u = urllib.parse.urlparse(url)
size = os.path.getsize(path)
conn = http.client.HTTPConnection(u.hostname, u.port)
auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
conn.request("POST", "/v1/uploads/", headers={**auth, "Upload-Length": str(size),
             "Upload-Metadata": "filename " + base64.b64encode(b"bench.mp4").decode()})
r = conn.getresponse(); r.read(); assert r.status == 201, r.status
loc = r.getheader("Location")
offset, chunk, media_id = 0, 8 << 20, None
with open(path, "rb") as f:
    while offset < size:
        data = f.read(chunk)
        conn.request("PATCH", loc, body=data, headers={**auth, "Upload-Offset": str(offset),
                     "Content-Type": "application/offset+octet-stream"})
        r = conn.getresponse(); r.read(); assert r.status == 204, r.status
        offset = int(r.getheader("Upload-Offset")); media_id = r.getheader("Mediaserver-Media-Id")
elapsed = time.monotonic() - t0
conn.request("GET", f"/v1/media/{media_id}", headers=auth)
item = json.loads(conn.getresponse().read())
h = hashlib.sha256()
with open(path, "rb") as f:
    for b in iter(lambda: f.read(1 << 20), b""): h.update(b)
assert item["sha256"] == h.hexdigest(), "sha256 mismatch"
print(f"{elapsed:.2f}")
PY
)
  TUS_RATE=$(python3 -c "print(f'{$MIB/$TUS_S:.0f}')")
  TUS_RSS=$(rss_peak_mib)
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  rm -f "$SRC"
  echo "| $MIB MiB | $UP_S | $UP_RATE | $RSS | $TUS_S | $TUS_RATE | $TUS_RSS | $DD_S | $DD_RATE | $DDF_S | $DDF_RATE |"
done
echo
echo "peak RSS: VmHWM of a fresh server process after one upload of that size"
