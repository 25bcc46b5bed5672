#!/usr/bin/env bash
# AV1 / HEVC against H.264 on the same rungs (VIDEO_CODECS): for each generated clip, every rung's
# bytes and SSIM in each codec (SSIM against the source scaled to the rung, ffmpeg's ssim
# filter), and the encode's wall and CPU seconds with H.264 alone and with the extra codecs, all
# through `mediaserver transcode` (one decode, every codec). Not a timed test.
# Usage: bench/codecs.sh [SECONDS] [SIZE] [CODECS]      (defaults: 6 1280x720 h264,av1)
# AV1_PRESET / HEVC_PRESET / TRANSCODE_PRESET in the environment apply; MEDIASERVER_BIN picks
# the binary (default target/debug/mediaserver: ffmpeg does the work either way).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-6}"
SIZE="${2:-1280x720}"
CODECS="${3:-h264,av1}"
BIN="${MEDIASERVER_BIN:-target/debug/mediaserver}"
[ -x "$BIN" ] || cargo build -q -p mediaserver
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mediaserver-codecs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# A flat animation (easy) and a zooming fractal (fine detail everywhere, always moving).
CLIPS=(animation fractal)
source_filter() {
  case "$1" in
    animation) echo "testsrc2=size=$SIZE:rate=30" ;;
    fractal) echo "mandelbrot=size=$SIZE:rate=30" ;;
  esac
}

transcode() { # transcode SRC DEST CODECS → "wall cpu" seconds
  local t="$WORK/time"
  /usr/bin/time -f "%e %U %S" -o "$t" env DATA_DIR="$WORK/data" DOWNLOAD_RENDITIONS=none \
    VIDEO_CODECS="$3" "$BIN" transcode "$1" "$2" >/dev/null 2>"$WORK/log" \
    || { cat "$WORK/log" >&2; exit 1; }
  awk '{ printf "%.1f %.1f", $1, $2 + $3 }' "$t"
}

ssim() { # ssim STREAM_FILE SRC W H → mean SSIM against the source scaled to WxH
  ffmpeg -hide_banner -nostdin -nostats -i "$1" -i "$2" \
    -lavfi "[1:v]scale=$3:$4:flags=bicubic,setsar=1[ref];[0:v]setsar=1[d];[d][ref]ssim" -f null - 2>&1 \
    | sed -n 's/.*SSIM.*All:\([0-9.]*\).*/\1/p' | tail -1
}

printf "%-10s %-6s %-5s %10s %8s %8s\n" clip rung codec bytes "x h264" SSIM
for clip in "${CLIPS[@]}"; do
  src="$WORK/$clip.mp4"
  ffmpeg -hide_banner -nostdin -loglevel error -f lavfi -i "$(source_filter "$clip")" \
    -f lavfi -i "sine=frequency=440" -t "$DUR" -c:v libx264 -preset veryfast -crf 14 \
    -pix_fmt yuv420p -c:a aac "$src"
  read -r h_wall h_cpu <<<"$(transcode "$src" "$WORK/$clip-h264" h264)"
  read -r x_wall x_cpu <<<"$(transcode "$src" "$WORK/$clip-all" "$CODECS")"
  dir="$WORK/$clip-all/stream"
  declare -A H264_BYTES=()
  # Every variant of the master: its resolution, codecs and media playlist (media_N.m3u8).
  while IFS='|' read -r res codecs n; do
    bytes=$(cat "$dir/init-$n.m4s" "$dir"/chunk-"$n"-*.m4s | tee "$WORK/s.mp4" | wc -c)
    w=${res%x*}; h=${res#*x}
    codec=$(case "$codecs" in avc1*) echo h264 ;; av01*) echo av1 ;; hvc1*|hev1*) echo hevc ;; esac)
    [ "$codec" = h264 ] && H264_BYTES[$h]=$bytes
    ratio=$(awk -v a="$bytes" -v b="${H264_BYTES[$h]:-0}" 'BEGIN { if (b) printf "%.2f", a / b; else print "-" }')
    printf "%-10s %-6s %-5s %10d %8s %8s\n" "$clip" "${h}p" "$codec" "$bytes" "$ratio" "$(ssim "$WORK/s.mp4" "$src" "$w" "$h")"
  done < <(awk '/^#EXT-X-STREAM-INF/ { match($0, /RESOLUTION=[0-9x]+/); r = substr($0, RSTART + 11, RLENGTH - 11);
                                      match($0, /CODECS="[^"]+"/); c = substr($0, RSTART + 8, RLENGTH - 9); getline u;
                                      gsub(/media_|\.m3u8/, "", u); print r "|" c "|" u }' "$dir/master.m3u8")
  unset H264_BYTES
  echo "$clip: encode h264 alone ${h_wall}s wall ${h_cpu}s CPU; $CODECS ${x_wall}s wall ${x_cpu}s CPU"
done
