#!/usr/bin/env bash
# Time to first play with hls.js in headless Chromium, for generated 1080p30 clips with audio
# (default: 1 and 10 minutes), on a fresh server per clip with embedded defaults.
# Usage: bench/first-play.sh [MINUTES...]   (TRANSCODE_PRESET=veryfast by default)
#   FIRST_PLAY_TRACE=1     also print where the time went (server and player milestones)
#   FIRST_PLAY_READY=0     stop at the first play instead of waiting for `ready`
#   FIRST_PLAY_WATCH=N     after the first play, play on to N s of the clip and report the
#                          stalls on the way (the wait for the main encode after the head)
#   FIRST_PLAY_PROFILE=debug  measure the debug build (saves a release build on a busy machine;
#                          ffmpeg does the work either way)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=("$@"); [ ${#MINUTES[@]} -gt 0 ] || MINUTES=(1 10)
PROFILE="${FIRST_PLAY_PROFILE:-release}"
scripts/install-deps.sh >/dev/null
if [ "$PROFILE" = release ]; then
  cargo build --release -q -p mediaserver
else
  cargo build -q -p mediaserver
fi
# Generated clips are kept between runs (they take minutes to make on 2 cores).
WORK="${CARGO_TARGET_DIR:-target}/bench-clips"
mkdir -p "$WORK"
CLIPS=()
for m in "${MINUTES[@]}"; do
  out="$WORK/clip-${m}min-1080p30.mp4"
  CLIPS+=("$out")
  [ -s "$out" ] && continue
  echo "generating a ${m}-minute 1080p30 clip..." >&2
  ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$((m * 60))" \
    -f lavfi -i "sine=frequency=440:duration=$((m * 60))" -c:v libx264 -preset ultrafast -crf 20 \
    -pix_fmt yuv420p -c:a aac -shortest "$out.tmp.mp4"
  mv "$out.tmp.mp4" "$out"
done
MEDIASERVER_BIN="$PWD/${CARGO_TARGET_DIR:-target}/$PROFILE/mediaserver" node bench/first-play.mjs "${CLIPS[@]}"
echo "x264 preset ${TRANSCODE_PRESET:-veryfast}; $(nproc) CPUs; $PROFILE build; load average $(cut -d' ' -f1-3 /proc/loadavg)"
