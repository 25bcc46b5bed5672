#!/usr/bin/env bash
# Is it worth playing 50/60 fps sources at half the rate on the small rungs (≤ 480p)?
# Encodes the 480p and 240p rungs of a 60 fps source at 60 and at 30 fps with the ladder's
# settings (x264 veryfast, High, keyframe every 2 s, the rung's bitrate with maxrate 1.07x and
# bufsize 1.5x) and, for bytes, CRF 23 under the same cap. Reports bytes, CPU seconds (decode of
# the lossless pre-scaled input included, the same for both) and SSIM against the reference at
# the output's own rate.
# Usage: bench/fps-halving.sh [SECONDS] (default 10)
set -euo pipefail
DUR="${1:-10}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mediaserver-fps.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
F="ffmpeg -hide_banner -nostdin -loglevel error -y"
# Moving test picture with per-frame grain (testsrc2 alone is too easy to encode).
$F -f lavfi -i "testsrc2=size=1920x1080:rate=60:duration=$DUR,noise=alls=6:allf=t" \
  -c:v libx264 -preset ultrafast -crf 10 -pix_fmt yuv420p src.mp4
for h in 480 240; do
  $F -i src.mp4 -vf "scale=-2:$h" -c:v libx264 -preset ultrafast -qp 0 -pix_fmt yuv420p "l$h.mkv"
done
printf "%-5s %-4s %-4s %10s %8s %8s\n" rung mode fps bytes cpu_s ssim
for spec in "480 1400" "240 400"; do
  set -- $spec; h=$1; kb=$2
  for mode in abr crf; do
    for fps in 60 30; do
      if [ "$mode" = abr ]; then rc=(-b:v "${kb}k"); else rc=(-crf 23); fi
      vf="null"; [ "$fps" = 30 ] && vf="fps=30"
      out="o-$h-$mode-$fps.mp4"
      /usr/bin/time -f "%U %S" -o t.txt $F -i "l$h.mkv" -vf "$vf" -c:v libx264 -preset veryfast \
        -profile:v high "${rc[@]}" -maxrate "$((kb*107/100))k" -bufsize "$((kb*3/2))k" \
        -force_key_frames "expr:gte(t,n_forced*2)" -sc_threshold 0 -pix_fmt yuv420p -an "$out"
      cpu=$(awk '{print $1+$2}' t.txt)
      ssim=$(ffmpeg -hide_banner -nostdin -i "$out" -i "l$h.mkv" -lavfi "[1:v]$vf[r];[0:v][r]ssim" \
        -f null - 2>&1 | sed -n 's/.*All:\([0-9.]*\).*/\1/p' | tail -1)
      printf "%-5s %-4s %-4s %10d %8.1f %8s\n" "${h}p" "$mode" "$fps" "$(stat -c %s "$out")" "$cpu" "$ssim"
    done
  done
done
