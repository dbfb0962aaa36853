#!/usr/bin/env bash
# tests/run.sh BUILD_DIR...: everything `make check` runs, for each build
# variant given (release, then ASan+UBSan).  Each check counts as one test;
# the last line is "N passed, M failed" and the exit status is 0 only when
# nothing failed.
#
#   1. unit tests (build/unit)
#   2. bad input: every tests/streams/bad/*.jsonl must make replay exit 2
#      and print the line its "# stderr:" header names, on every backend
#      (or on those a second header line "# backends: A B" names)
#   3. the corpus on every backend: corpus/*/ streams must pass, except
#      those tests/known-failures/BACKEND.txt lists (which must fail); and
#      on model and real in lock-step with --compare-data (every step, the
#      job events and the guest data of the nodes both offer compared),
#      except those either backend's list names
#   4. determinism: every corpus stream run twice gives byte-identical
#      transcripts
#   5. the stream parser fuzzer, a short run (when built)
#   5b. fuzz_diff's count of inputs ending in unsupported (when built): two
#      processes (a campaign's restart) on a stream whose comparison an
#      unsupported step ends (corpus/regress/075) and one compared to the
#      end; each process's stats line and the campaign's sum of their files
#      (tools/report-fuzz.sh unsupported) must give the expected figures
#   6. the coverage floor, for the coverage build (a directory holding a
#      VARIANT file that says "coverage"): line coverage of real/ (and of the
#      other parts tests/coverage-floor.txt names) from the corpus alone must
#      not fall below its floor (tools/coverage.sh floor)
#   7. (release build) after every corpus stream, the images the engine
#      wrote pass qemu-img check and equal QEMU's (tests/images.sh)
#   8. (once) fuzz/build.sh with OSS-Fuzz's variables set ($CC $CFLAGS $CXX
#      $LIB_FUZZING_ENGINE $OUT $WORK; -O0 and no sanitizer, to stay fast) leaves
#      each target, its seed zip, dictionary and options in $OUT, and each
#      target runs its unzipped seeds
#   9. replay --record writes the same stream to a file and to a pipe
#      (/dev/stdout), every step with expectations
#  10. (release build) make qemu-gen's 20 generated 8-step streams (seed 1)
#      run on QEMU against model and real agree step by step
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
ok()   { passed=$((passed + 1)); }
bad()  { failed=$((failed + 1)); failures+=("$1"); echo "FAIL: $1"; }

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
# Every run checks that no backend changed a step's command, which shares the
# stream's values (common/runner.c, frozen_steps()).
export BG_CHECK_FROZEN_STEPS=1
# ... and that no backend's data_version stayed put over bytes that changed
# (common/compare_data.c): the memo that skips unchanged nodes relies on it.
export BG_CHECK_DATA_VERSIONS=1
scratch_root=$(mktemp -d /var/tmp/bgraph-check.XXXXXX)
trap 'rm -rf "$scratch_root"' EXIT

run_unit() {   # 1. unit tests
    local B=$1 out
    if out=$("$B/unit" 2>&1); then
        echo "unit: $(printf '%s\n' "$out" | tail -n 1)"
        ok
    else
        printf '%s\n' "$out" | grep -E '^(FAIL|  )' | head -40
        bad "$B/unit: $(printf '%s\n' "$out" | tail -n 1)"
    fi
}

run_bad() {    # 2. bad input is refused with exit status 2 and its message, on every backend
    local B=$1 f want err rc n backend only
    for backend in $("$B/replay" --list-backends); do
        n=0
        for f in tests/streams/bad/*.jsonl; do
            [ -e "$f" ] || continue
            want=$(sed -n '1s/^# stderr: //p' "$f")
            want=${want//\$FILE/$f}
            # "# backends: A B" limits a refusal to backends that keep files on disk
            only=$(sed -n '2s/^# backends: //p' "$f")
            if [ -n "$only" ] && ! grep -qw -- "$backend" <<<"$only"; then
                continue
            fi
            err=$("$B/replay" --backend="$backend" --scratch="$scratch_root" "$f" 2>&1 >/dev/null)
            rc=$?
            if [ $rc -ne 2 ]; then
                bad "$f on $backend: exit status $rc, expected 2 ($err)"
            elif ! grep -qxF -- "$want" <<<"$err"; then
                bad "$f on $backend: expected stderr line: $want; got: $err"
            else
                ok; n=$((n + 1))
            fi
        done
        echo "bad input on $backend: $n streams refused as expected"
    done
}

run_corpus() { # 3 and 4. the corpus on each backend, twice, transcripts compared
    # A backend that does not yet pass every stream lists the ones it fails in
    # tests/known-failures/BACKEND.txt (one path a line, '#' comments): the
    # check is that exactly those fail, so a regression and a fix both show.
    local B=$1 backend dir out t1 t2 known got unexpected fixed
    for backend in $("$B/replay" --list-backends); do
        known="$scratch_root/known-$backend"
        sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "tests/known-failures/$backend.txt" \
            2>/dev/null | sort >"$known"
        for dir in corpus/seed corpus/conformance corpus/regress tests/streams/good; do
            ls "$dir"/*.jsonl >/dev/null 2>&1 || continue
            t1="$scratch_root/t1-$backend"; t2="$scratch_root/t2-$backend"
            rm -rf "$t1" "$t2"
            out=$("$B/replay" --backend="$backend" --scratch="$scratch_root" \
                      --transcript="$t1" "$dir"/*.jsonl 2>/dev/null)
            got=$(printf '%s\n' "$out" | sed -nE 's/^(FAILED|ERROR) +([^: ]+).*/\2/p' | sort -u)
            unexpected=$(comm -23 <(printf '%s\n' "$got" | sed '/^$/d') \
                             <(grep "^$dir/" "$known"))
            fixed=$(comm -13 <(printf '%s\n' "$got" | sed '/^$/d') <(grep "^$dir/" "$known"))
            if [ -z "$unexpected" ] && [ -z "$fixed" ]; then
                echo "$dir on $backend: $(printf '%s\n' "$out" | tail -n 1)" \
                     "($(grep -c "^$dir/" "$known") known failures)"
                ok
            else
                [ -n "$unexpected" ] && printf '%s\n' "$out" | grep -F -f <(printf '%s\n' "$unexpected") | head -20
                [ -n "$fixed" ] && echo "now passing (remove from tests/known-failures/$backend.txt):" $fixed
                bad "$dir on $backend"
            fi
            "$B/replay" --backend="$backend" --scratch="$scratch_root" \
                --transcript="$t2" "$dir"/*.jsonl >/dev/null 2>&1
            if diff -r "$t1" "$t2" >"$scratch_root/diff" 2>&1; then
                echo "$dir on $backend: second run gives byte-identical transcripts"
                ok
            else
                head -20 "$scratch_root/diff"
                bad "$dir on $backend: transcripts differ between two runs"
            fi
        done
    done
}

run_pair() {   # 3b. the corpus on model and real in lock-step, guest data compared
    # One pass (the determinism check above covers transcripts).  A stream
    # either backend is known to fail may fail here; any other must pass.
    local B=$1 dir out known got unexpected
    "$B/replay" --list-backends | grep -qx model || return 0
    "$B/replay" --list-backends | grep -qx real || return 0
    known="$scratch_root/known-pair"
    cat tests/known-failures/model.txt tests/known-failures/real.txt 2>/dev/null |
        sed -e 's/#.*//' -e '/^[[:space:]]*$/d' | sort -u >"$known"
    for dir in corpus/seed corpus/conformance corpus/regress tests/streams/good; do
        ls "$dir"/*.jsonl >/dev/null 2>&1 || continue
        out=$("$B/replay" --backend=model,real --compare-data --scratch="$scratch_root" \
                  "$dir"/*.jsonl 2>/dev/null)
        got=$(printf '%s\n' "$out" | sed -nE 's/^(FAILED|ERROR) +([^: ]+).*/\2/p' | sort -u)
        unexpected=$(comm -23 <(printf '%s\n' "$got" | sed '/^$/d') <(grep "^$dir/" "$known"))
        if [ -z "$unexpected" ]; then
            echo "$dir on model,real --compare-data: $(printf '%s\n' "$out" | tail -n 1)"
            ok
        else
            printf '%s\n' "$out" | grep -A3 -F -f <(printf '%s\n' "$unexpected") | head -20
            bad "$dir on model,real --compare-data"
        fi
    done
}

run_record() { # 9. replay --record: to a file and to a pipe (/dev/stdout), the same text
    local B=$1 f=corpus/regress/092-active-commit-zero-clusters.jsonl d=$scratch_root/record
    "$B/replay" --list-backends | grep -qx model || return 0
    mkdir -p "$d"
    if ! "$B/replay" --backend=model --scratch="$scratch_root" --record="$d/file.jsonl" "$f" \
            >"$d/file.log" 2>&1; then
        bad "replay --record to a file: $(tail -n 1 "$d/file.log")"
        return
    fi
    timeout 120 "$B/replay" --backend=model --scratch="$scratch_root" --record=/dev/stdout "$f" \
        2>/dev/null | grep -v -E '^(passed|[0-9]+ passed)' >"$d/pipe.jsonl"
    if [ "${PIPESTATUS[0]}" -ne 0 ] || ! cmp -s "$d/file.jsonl" "$d/pipe.jsonl"; then
        bad "replay --record=/dev/stdout through a pipe: exit ${PIPESTATUS[0]}, or output differs"
    elif [ "$(grep -v '^#' "$d/file.jsonl" | grep -vc '"expect"')" -ne 0 ] ||
         [ "$(grep -c . "$d/file.jsonl")" -ne "$(grep -c . "$f")" ]; then
        bad "replay --record: a step without expectations, or lines lost"
    else
        echo "replay --record: file and pipe agree ($(grep -c '"expect"' "$d/file.jsonl") steps)"
        ok
    fi
}

run_qemu_gen() { # 10. generated streams on QEMU against model and real (make qemu-gen)
    local B=$1 out
    [ -x "$B/gen_streams" ] || return 0
    "$B/replay" --list-backends | grep -qx qemu || return 0
    if "$B/gen_streams" -n 0 "$scratch_root/gen" 2>/dev/null; then
        bad "gen_streams -n 0 was accepted"
        return
    fi
    if out=$(bash tools/qemu-gen.sh 20 8 1 2>&1); then
        echo "$(printf '%s\n' "$out" | tail -n 1)"
        ok
    else
        printf '%s\n' "$out" | tail -n 20
        bad "make qemu-gen: QEMU disagrees with model or real on a generated stream"
    fi
}

run_images() { # 7. images the engine writes are QEMU's (release build only: slow)
    local B=$1 out
    "$B/replay" --list-backends | grep -qx real || return 0
    "$B/replay" --list-backends | grep -qx qemu || return 0
    if out=$(bash tests/images.sh "$B" corpus/*/*.jsonl 2>&1); then
        echo "$(printf '%s\n' "$out" | tail -n 1)"
        ok
    else
        printf '%s\n' "$out" | tail -n 20
        bad "images the engine wrote: qemu-img check / compare"
    fi
}

run_fuzz() {   # 5. the stream parser fuzzer, a short run
    local B=$1
    mkdir -p "$scratch_root/fuzz-corpus"
    if "$B/fuzz_stream" -runs=20000 -max_len=4096 -dict=fuzz/stream.dict \
            "$scratch_root/fuzz-corpus" corpus/seed tests/streams \
            >"$scratch_root/fuzz.log" 2>&1; then
        echo "parser fuzzer: $(grep -E '^#[0-9]+.*DONE' "$scratch_root/fuzz.log" | tail -n 1)"
        ok
    else
        tail -n 30 "$scratch_root/fuzz.log"
        bad "$B/fuzz_stream found a problem"
    fi
}

run_fuzz_stats() { # 5b. fuzz_diff counts inputs ending in unsupported, summed over processes
    local B=$1 d=$scratch_root/fuzz-stats got want sum
    local unsup=corpus/regress/075-two-qcow2-nodes-one-image.jsonl clean=corpus/seed/test_backing_reference.jsonl
    rm -rf "$d"; mkdir -p "$d"
    BG_FUZZ_NO_ABORT=1 BG_FUZZ_STATS=$d/stats "$B/fuzz_diff" "$unsup" "$clean" >"$d/1.log" 2>&1
    BG_FUZZ_NO_ABORT=1 BG_FUZZ_STATS=$d/stats "$B/fuzz_diff" "$unsup" >"$d/2.log" 2>&1
    got=$(grep '^bgraph-fuzz-stats: ' "$d/1.log")
    want="bgraph-fuzz-stats: inputs=2 unsupported=1 differed=0 unsupported-by=human-monitor-command:1"
    if [ "$got" != "$want" ]; then
        tail -n 20 "$d/1.log"
        bad "$B/fuzz_diff: stats line '$got', expected '$want'"
        return
    fi
    sum=$(bash tools/report-fuzz.sh unsupported "$d/stats" | tr '\t\n' ':;')
    want="inputs run:3;inputs ending in unsupported:2;unsupported share:66.7%;unsupported by command:human-monitor-command 2;inputs that differed:0;"
    if [ "$(ls "$d/stats" | grep -c .)" -ne 2 ] || [ "$sum" != "$want" ]; then
        ls -l "$d/stats"
        bad "report-fuzz.sh unsupported: '$sum', expected '$want' from two stats files"
        return
    fi
    echo "fuzz_diff unsupported count: $(bash tools/report-fuzz.sh unsupported "$d/stats" | awk -F'\t' '$1 == "unsupported share" { print $2 }') of 3 inputs over 2 processes, as expected"
    ok
}

run_floor() {  # 6. the coverage floor (the corpus replayed through the coverage build)
    local B=$1 out
    if out=$(COV="$B" bash tools/coverage.sh floor 2>&1); then
        printf '%s\n' "$out"
        ok
    else
        printf '%s\n' "$out"
        bad "coverage floor ($B): line coverage from the corpus below tests/coverage-floor.txt"
    fi
}

run_build_sh() { # 8. fuzz/build.sh, as OSS-Fuzz runs it
    local d=$scratch_root/oss-fuzz t opt dict
    command -v clang++ >/dev/null && command -v zip >/dev/null && command -v unzip >/dev/null || return 0
    mkdir -p "$d"
    if ! env CC=clang CXX=clang++ CFLAGS="-O0 -fsanitize=fuzzer-no-link" CXXFLAGS=-O0 \
            LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT="$d/out" WORK="$d/work" \
            fuzz/build.sh >"$d/build.log" 2>&1; then
        tail -n 20 "$d/build.log"
        bad "fuzz/build.sh failed"
        return
    fi
    for t in fuzz_diff fuzz_stream; do
        dict=$(sed -n "s/^dict *= *//p" "$d/out/$t.options" 2>/dev/null)
        if [ ! -x "$d/out/$t" ] || [ "$dict" != "$t.dict" ] || [ ! -s "$d/out/$dict" ] ||
           ! unzip -q "$d/out/${t}_seed_corpus.zip" -d "$d/seeds-$t" 2>/dev/null; then
            bad "fuzz/build.sh: $t, its options, dictionary or seed zip missing in \$OUT"
            continue
        fi
        mapfile -t opt < <(sed -n -e "s/ *= */=/" -e "/^[a-z_]*=/p" "$d/out/$t.options" | sed -e "s|^dict=|dict=$d/out/|" -e "s/^/-/")
        # (a difference is the campaign's business, not this check's)
        if BG_FUZZ_NO_ABORT=1 "$d/out/$t" "${opt[@]}" -runs=0 "$d/seeds-$t" >"$d/$t.log" 2>&1; then
            echo "fuzz/build.sh: $t ran its $(ls "$d/seeds-$t" | wc -l) seeds: $(grep -E "^#[0-9]+.*INITED" "$d/$t.log" | tail -n 1)"
            ok
        else
            tail -n 20 "$d/$t.log"
            bad "fuzz/build.sh: $t failed on its seed corpus"
        fi
    done
}

for B in "$@"; do
    echo "== $B"
    if grep -qx coverage "$B/VARIANT" 2>/dev/null; then
        run_floor "$B"      # instrumented binaries: nothing else runs here
        continue
    fi
    if [ -x "$B/unit" ]; then
        run_unit "$B"
        run_bad "$B"
        run_corpus "$B"
        run_pair "$B"
        run_record "$B"
        [ "$B" = build ] && run_images "$B"
        [ "$B" = build ] && run_qemu_gen "$B"
    fi
    [ -x "$B/fuzz_stream" ] && run_fuzz "$B"
    [ -x "$B/fuzz_diff" ] && run_fuzz_stats "$B"
done
run_build_sh

if [ $failed -gt 0 ]; then
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
