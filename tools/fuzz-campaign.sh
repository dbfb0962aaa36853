#!/usr/bin/env bash
# fuzz-campaign.sh SECONDS JOBS: a bounded fuzz campaign, as CI runs it.
#
# Runs every fuzz target built in build/fuzz for SECONDS each (JOBS > 1 uses
# libFuzzer's fork mode), keeps the growing corpus in build/fuzz/corpus/,
# and writes reports/fuzz/<run>/: report.txt with executions per second,
# coverage (libFuzzer's "cov" features), corpus size and every finding with
# its reproducer.  Exit status 1 when a target found something.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${2:-1}
run=$(date -u +%Y%m%dT%H%M%SZ)
out=reports/fuzz/$run
mkdir -p "$out/artifacts"
status=0

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
    "$target" -max_total_time="$seconds" -print_final_stats=1 -max_len=16384 \
        -artifact_prefix="$out/artifacts/$name-" "${opts[@]}" \
        "$corpus" corpus/seed tests/streams 2>&1 | tee "$log" |
        grep --line-buffered -E '^#[0-9]+.*(pulse|NEW|REDUCE|DONE)' | awk 'NR % 20 == 1 || /DONE/'
    rc=${PIPESTATUS[0]}
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
    size=$(find "$corpus" -type f | wc -l)
    findings=$(find "$out/artifacts" -name "$name-*" -type f | wc -l)
    {
        echo "target: $name"
        echo "seconds: $seconds"
        echo "executions: ${execs:-?}"
        echo "executions per second: ${rate:-?}"
        echo "coverage (libFuzzer features): ${cov:-?}"
        echo "corpus size: $size"
        echo "findings: $findings"
        for a in "$out"/artifacts/"$name"-*; do
            [ -e "$a" ] || continue
            echo "  $a (reproduce: $target $a)"
        done
        echo
    } >>"$out/report.txt"
    if [ "$rc" -ne 0 ] || [ "$findings" -gt 0 ]; then
        status=1
    fi
done
cat "$out/report.txt"
echo "report: $out/report.txt"
exit $status
