#!/usr/bin/env bash
# fuzz-campaign.sh SECONDS JOBS: a bounded fuzz campaign, as CI runs it.
#
# Runs every fuzz target built in build/fuzz for SECONDS each (JOBS > 1 uses
# libFuzzer's fork mode), keeps the growing corpus in build/fuzz/corpus/,
# and writes reports/fuzz/<run>/ (tools/report-fuzz.sh writes it):
# index.html with the figures (executions per second, coverage, corpus size,
# run length), a plot of coverage and corpus size over time, and every
# finding with its signature, its minimized reproducer and its replay
# command; report.txt with the same as text; NAME.log, libFuzzer's output as
# it printed it.  Refreshes reports/index.html.  Exit status 1 when a target
# found something.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${2:-1}
run=$(date -u +%Y%m%dT%H%M%SZ)
out=reports/fuzz/$run
mkdir -p "$out/artifacts"
status=0
bash tools/report-fuzz.sh begin "$out" "$seconds" "$jobs"

for target in build/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    name=$(basename "$target")
    corpus=build/fuzz/corpus/$name
    mkdir -p "$corpus"
    dict=fuzz/${name#fuzz_}.dict
    opts=()
    [ -f "$dict" ] && opts+=(-dict="$dict")
    [ "$jobs" -gt 1 ] && opts+=(-fork="$jobs" -ignore_crashes=0)
    echo "== $name: ${seconds}s, $jobs job(s), corpus $corpus"
    log=$out/$name.log
    "$target" -max_total_time="$seconds" -print_final_stats=1 -print_pcs=0 -max_len=16384 \
        -artifact_prefix="$out/artifacts/$name-" "${opts[@]}" \
        "$corpus" corpus/seed tests/streams 2>&1 | tee "$log" |
        bash tools/report-fuzz.sh stamp "$out/$name.progress" |
        grep --line-buffered -E '^#[0-9]+.*(pulse|NEW|REDUCE|DONE)' | awk 'NR % 20 == 1 || /DONE/'
    rc=${PIPESTATUS[0]}
    findings=$(bash tools/report-fuzz.sh target "$out" "$name" "$target" "$corpus" "$rc")
    if [ "$rc" -ne 0 ] || [ "${findings:-0}" -gt 0 ]; then
        status=1
    fi
done
bash tools/report-fuzz.sh page "$out"
cat "$out/report.txt"
echo "report: $out/index.html (and $out/report.txt); all runs: reports/index.html"
exit $status
