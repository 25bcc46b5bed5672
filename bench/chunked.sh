#!/usr/bin/env bash
# Chunked encoding (issue 15 §1): time from upload complete to `ready` for one generated source
# (testsrc2 + a tone), encoded
#   (a) as one job (CHUNK_SECONDS=0) by one `mediaserver worker` pinned to core 0 (taskset),
#   (b) chunked (CHUNK_SECONDS=60) by two workers, each pinned to its own core (0 and 1),
#   (c) chunked by one worker pinned to core 0 (the chunking overhead);
# then SSIM of every rung of (a) and (b) against the source scaled to the rung, and a
# projection of time-to-ready for a 60-minute source with 1, 4, 16 and 64 workers from the
# per-part times measured in (b) (a list-scheduling simulation: a projection, not a measurement).
# Goals (issue 15): (b)/(a) <= 0.55, (c)/(a) <= 1.05, |SSIM(b) - SSIM(a)| <= 0.003 per rung.
# Each run has its own server (SQLite, local storage, WORKERS=0) and data directory. Not a timed
# test: run it on a quiet machine.
#
# Usage: bench/chunked.sh [--minutes N] [--size WxH] [--fps F] [--chunk-seconds S] [--together]
#                         [--source FILE]
#        (defaults: 10 minutes, 1920x1080, 30 fps, 60 s chunks). TRANSCODE_PRESET applies;
#        --together runs (a) on core 0 and (c) on core 1 at the same time (then (b)): the two
#        one-core runs see the same machine — both cores busy, as in (b) — and it saves the
#        length of one run.
#        --source FILE reuses a source (say, one copied from an earlier run's work directory)
#        instead of generating one; --minutes/--size/--fps must then describe it.
#        BIN=path/to/mediaserver picks the binary (default: target/debug, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=10 SIZE=1920x1080 FPS=30 CHUNK=60 TOGETHER=0 SOURCE=
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    --fps) FPS="$2"; shift 2 ;;
    --chunk-seconds) CHUNK="$2"; shift 2 ;;
    --together) TOGETHER=1; shift ;;
    --source) SOURCE="$(realpath "$2")"; shift 2 ;;
    *) echo "usage: $0 [--minutes N] [--size WxH] [--fps F] [--chunk-seconds S] [--together] [--source FILE]" >&2; exit 2 ;;
  esac
done
if [ "$(nproc)" -lt 2 ]; then echo "needs 2 cores (taskset -c 0 and -c 1)" >&2; exit 1; fi
if [ -z "${BIN:-}" ]; then
  [ -x target/debug/mediaserver ] || cargo build -q -p mediaserver
  BIN=target/debug/mediaserver
fi
BIN="$(realpath "$BIN")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mediaserver-chunked.XXXXXX")"
PIDS=()
# Every server and worker started, in a file: runs in background subshells add to it too.
cleanup() { xargs -r kill -9 <"$WORK/pids" 2>/dev/null || true; rm -rf "$WORK"; }
: >"$WORK/pids"
trap cleanup EXIT
export LOG_FORMAT=json LOG_LEVEL=info

SECS=$((MINUTES * 60))
SRC="$WORK/source.mp4"
if [ -n "$SOURCE" ]; then
  # A source kept from an earlier run (generating the 10-minute one takes ~8 minutes).
  ln -s "$SOURCE" "$SRC"
else
  echo "generating a ${MINUTES}-minute ${SIZE} ${FPS} fps source…" >&2
  ffmpeg -hide_banner -nostdin -loglevel error -f lavfi -i "testsrc2=size=$SIZE:rate=$FPS:duration=$SECS" \
    -f lavfi -i "sine=frequency=330:duration=$SECS" -c:v libx264 -preset veryfast -crf 16 \
    -pix_fmt yuv420p -c:a aac -shortest -movflags +faststart "$SRC"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# run NAME CHUNK_SECONDS CORES… → prints the seconds from upload complete to ready; leaves
# $WORK/NAME/data (outputs, database) and $WORK/NAME/worker-CORE.log.
run() {
  local name="$1" chunk="$2"; shift 2
  local dir="$WORK/$name" port url token id t0 status
  mkdir -p "$dir"
  port="$(free_port)"; url="http://127.0.0.1:$port"
  # A run outlasts the default 15-minute access token: the poll below would get 401s.
  DATA_DIR="$dir/data" WORKERS=0 HOST=127.0.0.1 PORT="$port" ACCESS_TOKEN_TTL_SECONDS=86400 "$BIN" serve >"$dir/serve.log" 2>&1 &
  PIDS+=($!); echo $! >>"$WORK/pids"
  for _ in $(seq 1 100); do curl -fs "$url/healthz" >/dev/null && break; sleep 0.1; done
  local auth='{"email":"bench@example.com","password":"benchmark-password"}'
  curl -fs -X POST "$url/v1/auth/register" -H 'content-type: application/json' -d "$auth" >/dev/null
  token="$(curl -fs -X POST "$url/v1/auth/login" -H 'content-type: application/json' -d "$auth" | json 'd["access_token"]')"
  for core in "$@"; do
    DATA_DIR="$dir/data" CHUNK_SECONDS="$chunk" taskset -c "$core" "$BIN" worker >"$dir/worker-$core.log" 2>&1 &
    PIDS+=($!); echo $! >>"$WORK/pids"
  done
  id="$(curl -fs -H "authorization: Bearer $token" -F "file=@$SRC" "$url/v1/media" | json 'd["id"]')"
  t0=$(date +%s.%N)
  while :; do
    status="$(curl -fs -H "authorization: Bearer $token" "$url/v1/media/$id" | json 'd["status"]')"
    [ "$status" = ready ] && break
    [ "$status" = failed ] && { echo "$name: the item failed" >&2; cat "$dir"/worker-*.log >&2; exit 1; }
    sleep 0.25
  done
  python3 -c "import time; print(f'{time.time() - $t0:.1f}')"
  echo "$id" >"$dir/id"
  # Stop this run's server and workers before the next run measures.
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}

C_CORE=0
if [ "$TOGETHER" = 1 ]; then
  C_CORE=1
  echo "(a) one job, one worker on core 0, and at the same time (c) chunked, one worker on core 1…" >&2
  run a 0 0 >"$WORK/a.secs" & PA=$!
  run c "$CHUNK" 1 >"$WORK/c.secs" & PC=$!
  wait "$PA"; wait "$PC"
  A=$(cat "$WORK/a.secs"); C=$(cat "$WORK/c.secs")
  echo "(b) chunked, two workers on cores 0 and 1…" >&2
  B=$(run b "$CHUNK" 0 1)
else
  echo "(a) one job, one worker on core 0…" >&2
  A=$(run a 0 0)
  echo "(b) chunked, two workers on cores 0 and 1…" >&2
  B=$(run b "$CHUNK" 0 1)
  echo "(c) chunked, one worker on core 0…" >&2
  C=$(run c "$CHUNK" 0)
fi

echo
echo "source: ${MINUTES} min ${SIZE} ${FPS} fps, CHUNK_SECONDS=$CHUNK, preset ${TRANSCODE_PRESET:-veryfast}$([ "$TOGETHER" = 1 ] && echo ", (a) and (c) together")"
printf "%-44s %8s %8s\n" "run" "ready s" "x (a)"
printf "%-44s %8s %8s\n" "(a) one job, 1 worker (taskset -c 0)" "$A" "1.00"
printf "%-44s %8s %8s\n" "(b) chunked, 2 workers (-c 0, -c 1)" "$B" "$(awk -v x="$B" -v a="$A" 'BEGIN{printf "%.2f", x/a}')"
printf "%-44s %8s %8s\n" "(c) chunked, 1 worker (taskset -c $C_CORE)" "$C" "$(awk -v x="$C" -v a="$A" 'BEGIN{printf "%.2f", x/a}')"

# The stream directory of a run's item.
stream_dir() { dirname "$(find "$WORK/$1/data/storage" -path "*/media/$(cat "$WORK/$1/id")/stream/master.m3u8")"; }
# RESOLUTION|media playlist index of each variant of a master.
variants() {
  awk '/^#EXT-X-STREAM-INF/ { match($0, /RESOLUTION=[0-9x]+/); r = substr($0, RSTART + 11, RLENGTH - 11);
       getline u; gsub(/media_|\.m3u8/, "", u); print r "|" u }' "$1/master.m3u8"
}
rung_file() { # rung_file STREAM_DIR N OUT: init + media segments of stream N as one MP4
  local segs
  segs=$(awk '!/^#/ && NF' "$1/media_$2.m3u8")
  (cd "$1" && cat "init-$2.m4s" $segs) >"$3"
}
ssim() { # ssim FILE W H → mean SSIM against the source scaled to WxH
  ffmpeg -hide_banner -nostdin -nostats -i "$1" -i "$SRC" \
    -lavfi "[1:v]scale=$2:$3:flags=bicubic,setsar=1[ref];[0:v]setsar=1[d];[d][ref]ssim" -f null - 2>&1 \
    | sed -n 's/.*SSIM.*All:\([0-9.]*\).*/\1/p' | tail -1
}
echo
printf "%-10s %9s %9s %9s\n" rung "SSIM (a)" "SSIM (b)" "(b)-(a)"
DA="$(stream_dir a)"; DB="$(stream_dir b)"
declare -A BN=()
while IFS='|' read -r res n; do BN[$res]=$n; done < <(variants "$DB")
while IFS='|' read -r res n; do
  w=${res%x*}; h=${res#*x}
  if [ -z "${BN[$res]:-}" ]; then printf "%-10s %9s\n" "${h}p" "only in (a)"; continue; fi
  rung_file "$DA" "$n" "$WORK/a.mp4"; rung_file "$DB" "${BN[$res]}" "$WORK/b.mp4"
  sa=$(ssim "$WORK/a.mp4" "$w" "$h"); sb=$(ssim "$WORK/b.mp4" "$w" "$h")
  printf "%-10s %9s %9s %9s\n" "${h}p" "$sa" "$sb" "$(awk -v a="$sa" -v b="$sb" 'BEGIN{printf "%+.5f", b-a}')"
done < <(variants "$DA")

# Per-part wall times in (b), from the workers' JSON logs (claim → done of each job), and the
# jobs' kinds from the database; then the projection.
python3 - "$WORK/b" "$MINUTES" "$CHUNK" <<'EOF'
import glob, json, math, sqlite3, sys
from datetime import datetime
run, minutes, chunk = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
kinds = dict(sqlite3.connect(f"{run}/data/mediaserver.db").execute("select id, kind from jobs"))
start, end = {}, {}
def ts(s): return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
for path in glob.glob(f"{run}/worker-*.log"):
    for line in open(path):
        try: e = json.loads(line)
        except ValueError: continue
        msg = e.get("fields", {}).get("message", "")
        job = (e.get("span") or {}).get("job_id") or next((s.get("job_id") for s in e.get("spans", []) if "job_id" in s), None)
        if not job: continue
        if msg == "job claimed": start[job] = ts(e["timestamp"])
        elif msg in ("part done", "last part done; assemble job queued", "media ready", "split into chunk jobs"):
            end[job] = ts(e["timestamp"])
took = {}
for job, t in end.items():
    if job in start: took.setdefault(kinds.get(job, "?"), []).append(t - start[job])
print()
for k in ("whole", "chunk", "rest", "assemble"):
    v = took.get(k, [])
    if v: print(f"(b) {k:8s} jobs: {len(v):3d}, wall s mean {sum(v)/len(v):7.1f}, max {max(v):7.1f}")
if not took.get("chunk") or not took.get("rest"):
    print("no per-part times found in the worker logs; no projection"); sys.exit()
# Projection: 60 minutes = 3600/chunk chunks of the measured mean; the split, the rest and the
# assemble step scale with the duration (the original's copy, the audio encode, the downloads'
# remux grow with it; the probe, the last chunk's stills and the quality samples do not, so this
# overstates them); parts claimed in queue order (chunk 0, rest, chunk 1…) by W workers, each
# taking the next part when free.
scale = 60.0 / minutes
t_chunk = sum(took["chunk"]) / len(took["chunk"])
t_rest = took["rest"][0] * scale
t_split = took.get("whole", [0])[0] * scale
t_asm = took.get("assemble", [0])[0] * scale
n = math.ceil(3600 / chunk)
print(f"\nprojection (not measured) for a 60-minute source: {n} chunks of {t_chunk:.1f} s, rest {t_rest:.1f} s,"
      f" split {t_split:.1f} s, assemble {t_asm:.1f} s")
for w in (1, 4, 16, 64):
    free = [t_split] * w
    for d in [t_chunk, t_rest] + [t_chunk] * (n - 1):
        i = free.index(min(free)); free[i] += d
    print(f"  {w:2d} workers: ~{max(free) + t_asm:7.0f} s to ready")
EOF
