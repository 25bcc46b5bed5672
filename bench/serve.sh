#!/usr/bin/env bash
# Serving benchmark: wrk on loopback fetching one 4 s segment and one media playlist through
# mediaserver, versus nginx serving the same files from disk, in the same run.
# Usage: [THREADS=n] bench/serve.sh [DURATION_S] [CONNECTIONS] [ROUNDS]    (defaults: 10 32 3)
# Each round runs mediaserver then nginx back to back; the table shows the median of the rounds
# (client and servers share the machine's CPUs, so other load moves single runs a lot).
# Both servers get the same number of event-loop threads: THREADS (default: the CPU count, which
# is what each uses by default) nginx worker processes and tokio worker threads. NGINX_WORKERS
# overrides nginx's alone (the older pairing in BENCHMARKS.md: NGINX_WORKERS=1).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"
CONNS="${2:-32}"
ROUNDS="${3:-3}"
THREADS="${THREADS:-$(nproc)}"
NGINX_WORKERS="${NGINX_WORKERS:-$THREADS}"
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release -q -p mediaserver
BIN="${CARGO_TARGET_DIR:-target}/release/mediaserver"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mediaserver-sbench.XXXXXX")"
trap 'kill ${SERVER_PID:-} 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A public 720p item processed by mediaserver itself.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=30:duration=12 -f lavfi -i sine=duration=12 \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "$WORK/src.mp4"
PORT=$(free_port)
DATA_DIR="$WORK/data" HOST=127.0.0.1 PORT="$PORT" WORKERS=1 TRANSCODE_PRESET=veryfast LOG_LEVEL=warn \
  TOKIO_WORKER_THREADS="$THREADS" "$BIN" serve &
SERVER_PID=$!
URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -fs "$URL/healthz" >/dev/null && break; sleep 0.1; done
curl -fs -X POST "$URL/v1/auth/register" -H 'content-type: application/json' -d '{"email":"b@example.com","password":"benchmark-password"}' >/dev/null
TOKEN="$(curl -fs -X POST "$URL/v1/auth/login" -H 'content-type: application/json' -d '{"email":"b@example.com","password":"benchmark-password"}' | grep -o '"access_token":"[^"]*"' | cut -d'"' -f4)"
ID="$(curl -fsS -X POST "$URL/v1/media?filename=src.mp4" -H "authorization: Bearer $TOKEN" -T "$WORK/src.mp4" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)"
until curl -fs "$URL/v1/media/$ID" -H "authorization: Bearer $TOKEN" | grep -q '"status":"ready"'; do sleep 0.5; done
curl -fs -X PATCH "$URL/v1/media/$ID" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"visibility":"public"}' >/dev/null

STREAM="$WORK/data/storage/media/media/$ID/stream"
SEGMENT="$(ls "$STREAM" | grep -E '^chunk-0-' | sort | sed -n 2p)"   # a full 4 s segment of the top rung
PLAYLIST="media_0.m3u8"
SEG_BYTES=$(stat -c %s "$STREAM/$SEGMENT")

# nginx serving the very same files from disk.
NPORT=$(free_port)
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes $NGINX_WORKERS;
pid $WORK/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  types { application/vnd.apple.mpegurl m3u8; video/iso.segment m4s; }
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$NPORT; root $STREAM; }
}
CONF
chmod -R a+rX "$WORK"   # nginx workers run unprivileged; mktemp made the tree private
nginx -c "$WORK/nginx/nginx.conf"
sleep 0.3
# Both must really serve the file (a 403 or 404 would make a fast, meaningless benchmark).
for u in "$URL/v1/media/$ID/hls/$SEGMENT" "http://127.0.0.1:$NPORT/$SEGMENT"; do
  got=$(curl -fsS -o /dev/null -w '%{http_code} %{size_download}' "$u")
  [ "$got" = "200 $SEG_BYTES" ] || { echo "unexpected answer from $u: $got" >&2; exit 1; }
done

run_wrk() { # URL → "req/s p99_ms"
  wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "$1" 2>/dev/null | awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; p99=v}
    END {printf "%s %.2f", rps, p99}'
}

median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| resource | server | requests/s | p99 latency (ms) |"
echo "|---|---|---|---|"
for what in segment playlist; do
  f=$SEGMENT; [ $what = playlist ] && f=$PLAYLIST
  m_rps=(); m_p99=(); n_rps=(); n_p99=(); ratios=""
  for _ in $(seq 1 "$ROUNDS"); do
    read -r a b <<<"$(run_wrk "$URL/v1/media/$ID/hls/$f")"
    read -r c d <<<"$(run_wrk "http://127.0.0.1:$NPORT/$f")"
    m_rps+=("$a"); m_p99+=("$b"); n_rps+=("$c"); n_p99+=("$d")
    ratios="$ratios $(python3 -c "print(f'{$a/$c:.2f}')")"
  done
  M_RPS=$(median "${m_rps[@]}"); M_P99=$(median "${m_p99[@]}")
  N_RPS=$(median "${n_rps[@]}"); N_P99=$(median "${n_p99[@]}")
  echo "| $what ($f) | mediaserver | $M_RPS | $M_P99 |"
  echo "| $what ($f) | nginx | $N_RPS | $N_P99 |"
  python3 -c "print(f'|  | ratio | {$M_RPS/$N_RPS:.2f}x nginx (goal >= 0.8) | {$M_P99/max($N_P99,0.001):.2f}x nginx (goal <= 2) |')"
  echo "|  | per-round requests/s ratios |$ratios | |"
done
# For reference: the same playlist through a signed URL (/v1/play/{token}/…, as private items
# play), and the item's JSON (a database read per request).
PLAY="$(curl -fs -X POST "$URL/v1/media/$ID/playback-token" -H "authorization: Bearer $TOKEN" | grep -o '"hls":"[^"]*"' | cut -d'"' -f4 | sed 's#/hls/master.m3u8##')"
read -r S_RPS S_P99 <<<"$(run_wrk "$URL$PLAY/hls/$PLAYLIST")"
echo "| signed playlist (/v1/play/{token}/hls/$PLAYLIST, for reference) | mediaserver | $S_RPS | $S_P99 |"
read -r J_RPS J_P99 <<<"$(run_wrk "$URL/v1/media/$ID")"
echo "| item JSON (for reference) | mediaserver | $J_RPS | $J_P99 |"
echo
echo "segment: $SEG_BYTES bytes; wrk -t2 -c$CONNS -d${DUR}s on loopback, median of $ROUNDS rounds; public item (no auth); $THREADS tokio worker(s), $NGINX_WORKERS nginx worker process(es); $(nproc) CPUs shared by client and servers"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
