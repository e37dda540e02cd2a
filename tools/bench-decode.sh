#!/usr/bin/env bash
# Decode benchmark: `actiond bench decode` beside `ffmpeg -threads N -i FILE -f null -` on the same file, same
# thread count, in one invocation; prints medians and the ratio (ours / ffmpeg, higher is better for us).
#   tools/bench-decode.sh [FILE] [THREADS...]     default: a generated 640x480 H.264 clip, threads 1 and 2
set -euo pipefail
cd "$(dirname "$0")/.."
ACTIOND=${ACTIOND:-.build/release/actiond}
RUNS=${RUNS:-5}
[ -x "$ACTIOND" ] || swift build -c release >/dev/null
command -v ffmpeg >/dev/null || { echo "ffmpeg CLI not found (make deps installs it)" >&2; exit 1; }
FILE=${1:-}
if [ -z "$FILE" ]; then
    FILE=${TMPDIR:-/tmp}/actiond-bench-640x480-120s.mp4
    [ -f "$FILE" ] || "$ACTIOND" testclip "$FILE" --size 640x480 --fps 30 --seconds 120 >/dev/null
fi
shift || true
THREADS=("$@"); [ ${#THREADS[@]} -gt 0 ] || THREADS=(1 2)
frames=$(ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 "$FILE")

ffmpeg_fps() {  # median fps of RUNS runs of ffmpeg decoding to the null muxer
    local t=$1 times=()
    for _ in $(seq "$RUNS"); do
        local s e
        s=$(date +%s.%N); ffmpeg -v error -threads "$t" -i "$FILE" -map 0:v:0 -f null - ; e=$(date +%s.%N)
        times+=("$(awk -v f="$frames" -v s="$s" -v e="$e" 'BEGIN {print f / (e - s)}')")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

echo "file: $FILE ($frames frames), runs: $RUNS, OpenBLAS/FFmpeg on $(nproc) cores"
printf '%-8s %14s %16s %14s %10s %12s\n' threads "actiond fps" "actiond+112 fps" "ffmpeg fps" ratio "ratio+scale"
for t in "${THREADS[@]}"; do
    json=$("$ACTIOND" bench decode "$FILE" --threads "$t" --runs "$RUNS" --json)
    ours=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["decode_fps"])')
    scaled=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["decode_scale_fps"])')
    ref=$(ffmpeg_fps "$t")
    awk -v t="$t" -v o="$ours" -v s="$scaled" -v r="$ref" \
        'BEGIN {printf "%-8s %14.1f %16.1f %14.1f %9.2fx %11.2fx\n", t, o, s, r, o / r, s / r}'
done
