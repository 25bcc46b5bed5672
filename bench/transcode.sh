#!/usr/bin/env bash
# Transcoding benchmark on one generated 1080p30 source with audio (default 60 s):
#   (a) mediaserver end to end: upload → ready, HLS + DASH from one CMAF encode (+ thumbnail, storyboard)
#   (b) the common two-run approach: ffmpeg HLS with MPEG-TS segments (var_stream_map), then a
#       separate ffmpeg DASH run, each decoding and encoding everything again
#   (c) one hand-written ffmpeg command producing the same CMAF outputs (the floor)
# Same x264 preset and rungs for all. Reports wall and CPU time, output bytes and SSIM per rung.
# Usage: bench/transcode.sh [SECONDS] [PRESET]     (defaults: 60 veryfast)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-60}"
PRESET="${2:-veryfast}"
command -v ffmpeg >/dev/null || scripts/install-deps.sh --server-only
cargo build --release -q -p mediaserver
BIN="${CARGO_TARGET_DIR:-target}/release/mediaserver"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mediaserver-tbench.XXXXXX")"
trap 'kill ${SERVER_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
SRC="$WORK/source.mp4"

echo "generating a ${DUR}s 1080p30 source with audio..." >&2
ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$DUR" \
  -f lavfi -i "sine=frequency=440:duration=$DUR" -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p \
  -c:a aac -b:a 192k -shortest "$SRC"

# The ladder mediaserver plans for a 1080p source (DESIGN.md): height, bitrate (kbit/s).
RUNGS=("1080 5000" "720 2800" "480 1400" "360 800" "240 400")
N=${#RUNGS[@]}

encode_args() { # the per-rung filter graph and codec options shared by (b) and (c)
  local fc="[0:v]split=$N" i
  for i in $(seq 0 $((N-1))); do fc="$fc[s$i]"; done
  fc="$fc"
  for i in $(seq 0 $((N-1))); do
    set -- ${RUNGS[$i]}
    fc="$fc;[s$i]scale=-2:$1[v$i]"
  done
  ARGS=(-filter_complex "$fc")
  for i in $(seq 0 $((N-1))); do
    set -- ${RUNGS[$i]}
    ARGS+=(-map "[v$i]" -c:v:$i libx264 -preset "$PRESET" -profile:v:$i high -b:v:$i "${2}k"
           -maxrate:v:$i "$(( $2 * 107 / 100 ))k" -bufsize:v:$i "$(( $2 * 3 / 2 ))k")
  done
  ARGS+=(-force_key_frames "expr:gte(t,n_forced*2)" -sc_threshold 0 -pix_fmt yuv420p)
}

# CPU seconds used so far by this shell's finished children (ffmpeg runs). `times` must run in
# this shell itself: a command substitution is a fresh process with no children of its own.
children_cpu_to() { times > "$WORK/times"; }
read_cpu() { tail -1 "$WORK/times" | awk '{ split($1,u,"m"); split($2,s,"m"); printf "%.1f", u[1]*60+u[2]+s[1]*60+s[2] }'; }

ssim() { # ssim FILE → mean SSIM against the source (rung scaled back up to 1080p)
  ffmpeg -hide_banner -nostats -i "$1" -i "$SRC" -lavfi "[0:v]scale=1920:1080:flags=bicubic[a];[a][1:v]ssim" -f null - 2>&1 \
    | sed -n 's/.*SSIM.*All:\([0-9.]*\).*/\1/p' | tail -1
}

report_cmaf() { # report_cmaf LABEL DIR → SSIM per video representation of a dash-muxer output
  local dir=$1 i out=""
  for i in $(seq 0 $((N-1))); do
    # mediaserver names them init-N.m4s / chunk-N-*.m4s, ffmpeg's default init-streamN / chunk-streamN-*.
    local tag=""
    for t in "$i" "stream$i"; do [ -f "$dir/init-$t.m4s" ] && tag=$t; done
    [ -n "$tag" ] || { out="$out n/a"; continue; }
    cat "$dir/init-$tag.m4s" $(ls "$dir"/chunk-"$tag"-*.m4s | sort) > "$WORK/rep$i.mp4"
    out="$out $(ssim "$WORK/rep$i.mp4")"
  done
  echo "$out"
}

echo "| run | wall (s) | CPU (s) | output MiB | SSIM per rung (1080/720/480/360/240) |"
echo "|---|---|---|---|---|"

# (a) mediaserver end to end
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
DATA_DIR="$WORK/data" HOST=127.0.0.1 PORT="$PORT" WORKERS=1 TRANSCODE_PRESET="$PRESET" LOG_LEVEL=warn "$BIN" serve &
SERVER_PID=$!
URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -fs "$URL/healthz" >/dev/null && break; sleep 0.1; done
curl -fs -X POST "$URL/v1/auth/register" -H 'content-type: application/json' -d '{"email":"b@example.com","password":"benchmark-password"}' >/dev/null
TOKEN="$(curl -fs -X POST "$URL/v1/auth/login" -H 'content-type: application/json' -d '{"email":"b@example.com","password":"benchmark-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
cpu_proc() { awk '{printf "%.1f", ($14+$15+$16+$17)/100}' "/proc/$SERVER_PID/stat"; }
C0=$(cpu_proc); T0=$(date +%s.%N)
ID=$(curl -fsS -X POST "$URL/v1/media?filename=source.mp4" -H "authorization: Bearer $TOKEN" -T "$SRC" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
# Poll cheaply (curl + grep, twice a second): on 2 cores a heavier poller steals time from ffmpeg.
while :; do
  STATUS=$(curl -fs "$URL/v1/media/$ID" -H "authorization: Bearer $TOKEN" | grep -o '"status":"[a-z]*"' | cut -d'"' -f4)
  [ "$STATUS" = ready ] || [ "$STATUS" = failed ] && break
  sleep 0.5
done
T1=$(date +%s.%N); C1=$(cpu_proc)
[ "$STATUS" = ready ] || { echo "mediaserver failed: $(curl -fs "$URL/v1/media/$ID" -H "authorization: Bearer $TOKEN")" >&2; exit 1; }
OUT="$WORK/data/storage/media/media/$ID"
BYTES=$(du -sb "$OUT" | cut -f1)
A_WALL=$(python3 -c "print(f'{$T1-$T0:.1f}')")
echo "| (a) mediaserver upload→ready, HLS+DASH (+thumbnail, storyboard) | $A_WALL | $(python3 -c "print(f'{$C1-$C0:.1f}')") | $(python3 -c "print(f'{$BYTES/1048576:.1f}')") |$(report_cmaf "$OUT/stream") |"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; unset SERVER_PID

# (b) two runs: HLS (MPEG-TS) then DASH
encode_args
VSM=""
for i in $(seq 0 $((N-1))); do VSM="$VSM v:$i,agroup:aud"; done
VSM="${VSM# } a:0,agroup:aud"
mkdir -p "$WORK/b-hls" "$WORK/b-dash"
children_cpu_to; C0=$(read_cpu); T0=$(date +%s.%N)
ffmpeg -hide_banner -loglevel error -y -i "$SRC" "${ARGS[@]}" -map a:0 -c:a aac -b:a 128k -ar 48000 -ac 2 \
  -f hls -hls_time 4 -hls_playlist_type vod -hls_segment_type mpegts -master_pl_name master.m3u8 \
  -hls_segment_filename "$WORK/b-hls/v%v_%05d.ts" -var_stream_map "$VSM" "$WORK/b-hls/v%v.m3u8"
ffmpeg -hide_banner -loglevel error -y -i "$SRC" "${ARGS[@]}" -map a:0 -c:a aac -b:a 128k -ar 48000 -ac 2 \
  -f dash -seg_duration 4 -use_template 1 -use_timeline 0 -adaptation_sets "id=0,streams=v id=1,streams=a" "$WORK/b-dash/manifest.mpd"
T1=$(date +%s.%N); children_cpu_to; C1=$(read_cpu)
B_WALL=$(python3 -c "print(f'{$T1-$T0:.1f}')")
BYTES=$(du -sbc "$WORK/b-hls" "$WORK/b-dash" | tail -1 | cut -f1)
SS=""
for i in $(seq 0 $((N-1))); do SS="$SS $(ssim "$WORK/b-hls/v$i.m3u8")"; done
echo "| (b) two runs: ffmpeg HLS/MPEG-TS, then ffmpeg DASH | $B_WALL | $(python3 -c "print(f'{$C1-$C0:.1f}')") | $(python3 -c "print(f'{$BYTES/1048576:.1f}')") |$SS |"

# (c) one hand-written ffmpeg: CMAF once, HLS + DASH manifests
mkdir -p "$WORK/c"
children_cpu_to; C0=$(read_cpu); T0=$(date +%s.%N)
ffmpeg -hide_banner -loglevel error -y -i "$SRC" "${ARGS[@]}" -map a:0 -c:a aac -b:a 128k -ar 48000 -ac 2 \
  -f dash -seg_duration 4 -use_template 1 -use_timeline 0 -hls_playlist 1 \
  -adaptation_sets "id=0,streams=v id=1,streams=a" "$WORK/c/manifest.mpd"
T1=$(date +%s.%N); children_cpu_to; C1=$(read_cpu)
C_WALL=$(python3 -c "print(f'{$T1-$T0:.1f}')")
BYTES=$(du -sb "$WORK/c" | cut -f1)
echo "| (c) one ffmpeg, CMAF for HLS+DASH (floor) | $C_WALL | $(python3 -c "print(f'{$C1-$C0:.1f}')") | $(python3 -c "print(f'{$BYTES/1048576:.1f}')") |$(report_cmaf "$WORK/c") |"

echo
python3 -c "print(f'(a)/(b) wall = {$A_WALL/$B_WALL:.2f} (goal <= 0.55); (a)/(c) wall = {$A_WALL/$C_WALL:.2f} (goal <= 1.05)')"
echo "source: ${DUR}s 1920x1080 30 fps testsrc2 + 440 Hz sine; x264 preset $PRESET; $(nproc) CPUs"
