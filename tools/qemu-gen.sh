#!/usr/bin/env bash
# tools/qemu-gen.sh N STEPS SEED: `make qemu-gen`.  Writes N streams of at
# most STEPS steps with the fuzzer's generator (build/gen_streams, fixed
# seeds: the same files every run) and runs each on QEMU 7.2 against the
# model and against the engine (replay --backend=qemu,model and qemu,real),
# step by step.  Model and engine may agree with each other and both differ
# from QEMU; fuzz_diff cannot see that, this can.  It prints a progress line
# per backend pair, each differing stream with the step and values replay
# printed, and the commands to minimize it and record it into
# corpus/regress.  Exit status: 0 QEMU agreed with both on every stream, 1
# a difference, 2 QEMU or a tool is missing.
set -u
cd "$(dirname "$0")/.."
n=${1:-100} steps=${2:-8} seed=${3:-1}
if ! build/replay --list-backends | grep -qx qemu; then
    echo "qemu-gen: QEMU 7.2 is not installed (make deps)" >&2
    exit 2
fi
out=$(mktemp -d /var/tmp/bgraph-qemu-gen.XXXXXX)
keep=reports/qemu-gen/seed-$seed-steps-$steps
trap 'rm -rf "$out"' EXIT
build/gen_streams -n "$n" -steps "$steps" -seed "$seed" "$out/streams" || exit 2
rc=0
for other in model real; do
    log=$out/qemu-$other.txt
    i=0
    : >"$log"
    for f in "$out"/streams/*.jsonl; do
        i=$((i + 1))
        build/replay --backend=qemu,$other --scratch="$out" "$f" >>"$log" 2>&1
        if [ $((i % 25)) -eq 0 ] || [ "$i" -eq "$n" ]; then
            echo "[qemu,$other] $i/$n streams, $(grep -c '^FAILED\|^ERROR' "$log") differing"
        fi
    done
    if grep -q '^FAILED\|^ERROR' "$log"; then
        rc=1
        mkdir -p "$keep"
        grep -A3 '^FAILED\|^ERROR' "$log" | sed "s|$out/streams|$keep|g"
        for f in $(sed -nE 's/^(FAILED|ERROR) +([^: ]+).*/\2/p' "$log" | sort -u); do
            cp "$f" "$keep/"
        done
    fi
done
if [ $rc -ne 0 ]; then
    echo "qemu-gen: QEMU disagrees; the streams are in $keep/.  Next:"
    echo "  build/replay --backend=qemu,model --minimize=min.jsonl STREAM   (or qemu,real)"
    echo "  build/replay --backend=qemu --record=corpus/regress/NNN-name.jsonl min.jsonl"
else
    echo "qemu-gen: QEMU agreed with model and real on all $n streams"
fi
exit $rc
