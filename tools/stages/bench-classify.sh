#!/bin/sh
# Throughput of `actiond classify` with each test pipeline on a 640x480 clip, in video-seconds per
# wall-second (median of RUNS runs), beside a decode-only pipeline run in the same invocation (the reference).
# Usage: tools/stages/bench-classify.sh [ACTIOND_BINARY] [RUNS] [SECONDS]
set -eu
BIN=${1:-.build/release/actiond}
RUNS=${2:-3}
SECONDS_OF_VIDEO=${3:-10}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN" testclip "$WORK/clip.mp4" --size 640x480 --fps 25 --seconds "$SECONDS_OF_VIDEO" >/dev/null
MODELS="$HERE/Tests/StagesTests/Fixtures/models"
printf 'version: 1\npipeline:\n  - decode\n' > "$WORK/decode-only.yaml"
for name in r3d ts crnn crnn-split; do
    flow=""
    [ "$name" = ts ] && flow="  - flow
"
    printf 'version: 1\nmodels: { actions: %s/%s.yaml }\npipeline:\n  - decode\n%s  - classify: { model: actions }\n  - smooth\n' \
        "$MODELS" "$name" "$flow" > "$WORK/$name.yaml"
done
echo "640x480 ${SECONDS_OF_VIDEO}s clip, decode 320x240 @ 15 fps, median of $RUNS runs"
for name in decode-only r3d ts crnn crnn-split; do
    times=""
    for _ in $(seq "$RUNS"); do
        start=$(date +%s.%N)
        "$BIN" classify "$WORK/clip.mp4" --pipeline "$WORK/$name.yaml" >/dev/null
        end=$(date +%s.%N)
        times="$times $(echo "$end - $start" | bc -l)"
    done
    median=$(echo $times | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
    [ "$name" = decode-only ] && reference=$median
    awk -v n="$name" -v m="$median" -v s="$SECONDS_OF_VIDEO" -v r="$reference" \
        'BEGIN { printf "%-12s %7.3f s  %7.1f video-s/s  %5.2fx decode-only time\n", n, m, s / m, m / r }'
done
