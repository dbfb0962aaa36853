#!/usr/bin/env bash
# fuzz-campaign.sh SECONDS JOBS: a bounded fuzz campaign, as CI runs it
# (`make fuzz`, FUZZ_SECONDS and FUZZ_JOBS).
#
# For every fuzz target built in build/fuzz: SECONDS of wall clock (seed
# corpus loading included), a progress line every FUZZ_PROGRESS_SECONDS (5),
# then the findings deduplicated, minimized and judged known or new
# (tools/fuzz-findings.sh), and the report reports/fuzz/<run>/ (index.html,
# report.txt; tools/report-fuzz.sh).  The growing corpus stays in
# build/fuzz/corpus/<target>/.
#
# Exit status: 0 no new finding (known ones allowed), 1 a finding that no
# stream of corpus/regress/ (or of tests/known-failures/) reproduces, 2 the
# campaign could not run (a tool or target missing, a target that never
# started).
#
# Going on after a finding, so that one bug does not hide the next:
# - fuzz_diff runs with BG_FUZZ_NO_ABORT=1: a model/real difference is
#   written as the readable stream up to the differing step
#   (BG_FUZZ_ARTIFACTS, mismatch-<hash>.jsonl) and the run goes on in the same
#   process, costing nothing.  Measured here on 2 shared cores, 60 s from
#   the 194 seeds: about 420 executions and 20 reproducers this way, 181
#   executions in -fork=1 (every job reloads seeds at about 10 per second).
# - A crash (sanitizer, broken invariant, timeout, out-of-memory) still ends a
#   libFuzzer process: with JOBS=1 the target is started again with the time
#   left and the next seed (-seed=FUZZ_SEED+N), unless the process that
#   crashed never finished loading its corpus (it would crash again); with
#   JOBS > 1, libFuzzer's fork mode (-fork=JOBS -ignore_crashes=1
#   -ignore_timeouts=1 -ignore_ooms=1) restarts jobs itself.
#
# Blind spots: fuzz_diff counts, per process, the inputs whose comparison an
# unsupported step ended (BG_FUZZ_STATS=OUT/unsupported/NAME, a file per
# process: restarts and fork-mode jobs are summed); the report shows the
# share and the commands ("inputs ending in unsupported: ...").
#
# Seeds: fuzz_diff from corpus/seed, corpus/conformance and corpus/regress
# (streams model and real run); fuzz_stream from those and tests/streams/
# (bad-input streams: what the parser must refuse).  Options (dict, max_len,
# timeout, rss_limit_mb) from fuzz/<target>.options, as OSS-Fuzz reads them.
# FUZZ_TARGETS="fuzz_diff ..." runs only those targets.  FUZZ_SEED (default 1)
# makes libFuzzer's choices repeatable (0 lets it pick); FUZZ_RUNS=N also stops
# a target after N executions, which with the same corpus directory makes a
# campaign repeat exactly (a time bound alone cuts it at a different point).

set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${2:-1}
seed=${FUZZ_SEED:-1}
every=${FUZZ_PROGRESS_SECONDS:-5}
run=$(date -u +%Y%m%dT%H%M%SZ)
out=reports/fuzz/$run

die() { echo "fuzz-campaign: $*" >&2; exit 2; }
# fuzz_diff's scratch directories under one parent removed at the end: a
# libFuzzer process that is interrupted or crashes skips its own clean-up.
scratch=$(mktemp -d "${BG_SCRATCH:-/var/tmp}/bgraph-campaign.XXXXXX") || die "no scratch directory"
trap 'rm -rf "$scratch"' EXIT
export BG_FUZZ_SCRATCH=$scratch
[ -x build/replay ] || die "build/replay is missing (make)"
ls build/fuzz/fuzz_* >/dev/null 2>&1 || die "no fuzz target in build/fuzz (make fuzz-build)"
mkdir -p "$out/artifacts"
bash tools/report-fuzz.sh begin "$out" "$seconds" "$jobs"

# seeds TARGET: the seed directories of a target.
seeds() {
    local d
    for d in corpus/seed corpus/conformance corpus/regress; do [ -d "$d" ] && echo "$d"; done
    [ "$1" = fuzz_stream ] && [ -d tests/streams ] && echo tests/streams
}

# options TARGET: fuzz/TARGET.options as libFuzzer flags (dict relative to fuzz/).
options() {
    local f=fuzz/$1.options
    [ -f "$f" ] || return 0
    sed -n -e 's/[[:space:]]*=[[:space:]]*/=/' -e '/^[a-z_]*=/p' "$f" |
        sed -e 's|^dict=|dict=fuzz/|' -e 's/^/-/'
}

# progress NAME BIN START: a line every $every seconds until killed:
# libFuzzer's last status line (executions, exec/s, cov, corpus) and the
# findings so far, keyed as they appear.
progress() {
    local name=$1 bin=$2 start=$3 new files t last
    while sleep "$every"; do
        mapfile -t files < <(find "$out/artifacts/$name" -maxdepth 1 -type f ! -name 'slow-unit-*' ! -name '*.tmp[0-9]*' \
            2>/dev/null | sort | grep -vxF -f <(cut -f1 "$out/$name.live") || true)
        [ ${#files[@]} -gt 0 ] && bash tools/fuzz-findings.sh keys "$name" "$bin" "${files[@]}" \
            >>"$out/$name.live" 2>/dev/null
        t=$(($(date +%s) - start))
        last=$(tail -n 1 "$out/$name.progress" 2>/dev/null | cut -f2-)
        new=$(bash tools/fuzz-findings.sh new "$out" "$name" "$out/$name.live" | grep -c .)
        awk -v name="$name" -v t="$t" -v s="$seconds" -v new="$new" \
            -v distinct="$(awk -F'\t' '$3 != "" { print $3 }' "$out/$name.live" | sort -u | grep -c .)" \
            -v files="$(grep -c . "$out/$name.live")" -v last="$last" 'BEGIN {
            n = split(last, w, /[ \t]+/); ex = w[1]; sub(/^#/, "", ex); sub(/:$/, "", ex)
            for (i = 2; i < n; i++) {
                if (w[i] == "cov:") cov = w[i + 1]
                else if (w[i] == "corp:") { corp = w[i + 1]; sub(/\/.*/, "", corp) }
                else if (w[i] == "exec/s:" || w[i] == "exec/s") eps = w[i + 1]
            }
            if (last == "") { ex = "-"; eps = "-"; cov = "-"; corp = "loading" }
            printf "[%s %3ds/%ss] execs %s, exec/s %s, cov %s, corpus %s, findings %d (%d new) from %d reproducers\n",
                name, t, s, ex, eps, cov, corp, distinct, new, files }'
    done
}

# fuzz NAME BIN CORPUS: the target for $seconds, going on after findings.
fuzz() {
    local name=$1 bin=$2 corpus=$3 deadline left attempt=0 rc=0 opts t0 from
    mapfile -t opts < <(options "$name")
    deadline=$(($(date +%s) + seconds))
    t0=${EPOCHREALTIME/./}   # the plot's clock runs on across restarts
    while :; do
        left=$((deadline - $(date +%s)))
        [ "$left" -ge 2 ] || break
        [ "$attempt" -le "${FUZZ_MAX_RESTARTS:-50}" ] || break
        from=$(wc -l <"$out/$name.log")
        [ "$attempt" -gt 0 ] && echo "== $name: started again after a crash, ${left}s left" |
            tee -a "$out/$name.log"
        local fork=()
        [ "$jobs" -gt 1 ] && fork=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
        # libFuzzer checks -max_total_time only once its corpus is loaded (about
        # 10 inputs a second here): SIGINT at the deadline keeps the bound, and
        # libFuzzer still prints its final stats (exit status 72).
        BG_FUZZ_NO_ABORT=1 BG_FUZZ_ARTIFACTS=$out/artifacts/$name BG_FUZZ_STATS=$out/unsupported/$name \
            timeout --preserve-status -s INT -k 10 "$left" "$bin" -max_total_time="$left" -seed=$((seed ? seed + attempt : 0)) \
            ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
            -print_final_stats=1 -print_pcs=0 -print_funcs=0 "${opts[@]}" "${fork[@]}" \
            -artifact_prefix="$out/artifacts/$name/" "$corpus" $(seeds "$name") 2>&1 |
            tee -a "$out/$name.log" | bash tools/report-fuzz.sh stamp "$out/$name.progress" "$t0" >/dev/null
        rc=${PIPESTATUS[0]}
        attempt=$((attempt + 1))
        [ "$rc" -eq 72 ] && rc=0   # interrupted at the deadline
        [ "$rc" -eq 0 ] && break
        if [ "$jobs" -gt 1 ]; then
            # Fork mode ends with the status of its last job (2 here when
            # that job was cut short at the deadline); crashes are artifacts.
            tail -n 3 "$out/$name.log" | grep -q "^INFO: exiting: " && rc=0
            break
        fi
        # A crash before the corpus was loaded would come back at once.
        [ "$(tail -n +$((from + 1)) "$out/$name.log" | grep -c INITED)" -gt 0 ] || break
    done
    awk -v t0="$t0" -v t1="${EPOCHREALTIME/./}" 'BEGIN { printf "%.1f\n", (t1 - t0) / 1e6 }' >"$out/$name.runlen"
    return "$rc"
}

status=0
for target in build/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    name=$(basename "$target")
    if [ -n "${FUZZ_TARGETS:-}" ] && ! grep -qw -- "$name" <<<"$FUZZ_TARGETS"; then continue; fi
    corpus=build/fuzz/corpus/$name
    mkdir -p "$corpus" "$out/artifacts/$name" "$out/unsupported/$name"
    : >"$out/$name.log"; : >"$out/$name.live"
    echo "== $name: ${seconds}s, $jobs job(s), seeds: $(seeds "$name" | tr '\n' ' ')corpus $corpus"
    bash tools/fuzz-findings.sh known "$out" "$name" "$target"
    echo "== $name: $(cut -f1 "$out/$name.known" | sort -u | grep -c .) known finding(s) from corpus/regress and tests/known-failures"
    progress "$name" "$target" "$(date +%s)" &
    ticker=$!
    fuzz "$name" "$target" "$corpus"
    rc=$?
    kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null
    echo "== $name: fuzzing ended (exit status $rc); deduplicating and minimizing"
    read -r distinct new < <(bash tools/fuzz-findings.sh triage "$out" "$name" "$target")
    bash tools/report-fuzz.sh target "$out" "$name" "$target" "$corpus" "$rc" >/dev/null
    if ! grep -qE '^#[0-9]+' "$out/$name.log"; then
        echo "== $name: the target never started fuzzing (see $out/$name.log): when it was still loading its corpus, give it more time (FUZZ_SECONDS) or fewer inputs (build/fuzz/corpus/$name/)"
        status=2
    elif [ "${new:-0}" -gt 0 ] && [ $status -ne 2 ]; then
        status=1
    fi
done
bash tools/report-fuzz.sh page "$out"
cat "$out/report.txt"
echo "report: $out/index.html (and $out/report.txt); all runs: reports/index.html"
case $status in
0) echo "fuzz-campaign: no new finding (exit status 0)" ;;
1) echo "fuzz-campaign: NEW finding(s): not reproduced by corpus/regress/ (exit status 1)" ;;
2) echo "fuzz-campaign: a target could not run (exit status 2)" ;;
esac
exit $status
