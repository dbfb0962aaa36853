#!/usr/bin/env bash
# tools/fuzz-findings.sh: what a fuzz campaign found, deduplicated, minimized,
# and judged known or new (the triage half of tools/fuzz-campaign.sh).
#
#   fuzz-findings.sh keys NAME BIN FILE...
#       one line per FILE: "FILE<TAB>KIND<TAB>KEY<TAB>RAW", from one run of
#       the target BIN on it (KIND and KEY empty when it ran clean).
#   fuzz-findings.sh known OUT NAME BIN
#       OUT/NAME.known: "KEY<TAB>STREAM" for every known stream that still
#       fails on BIN: corpus/regress/*.jsonl and the streams listed in
#       tests/known-failures/*.txt.
#   fuzz-findings.sh new OUT NAME KEYS
#       the distinct keys of KEYS (lines as "keys" prints them) that no
#       stream of OUT/NAME.known shows, one a line.
#   fuzz-findings.sh triage OUT NAME BIN
#       keys every reproducer in OUT/artifacts/NAME/ (OUT/NAME.keys; afresh:
#       the harness may have rewritten a file since the progress lines keyed
#       it into OUT/NAME.live), groups them by key, minimizes each group's smallest one and
#       writes OUT/NAME.findings, one line per distinct finding, sorted by key:
#         id, key, kind, count, new|known, known-by, reproducer, minimized,
#         note, raw signature
#       (id = the first 12 hex digits of the key's sha1, so one bug has one
#       name in every run).  Prints "DISTINCT NEW".
#
# The key (what identifies a bug):
#   - a model/real difference: the key fuzz_diff prints after its signature
#     line ("bgraph-key: mismatch: command=C channel=CH path=P | A ~ B"),
#     defined once, in C, by common/finding.h: the step and line left out,
#     positions and names the stream chose blanked in the path, and the two
#     sides' values with names in single quotes and numbers blanked.  So two
#     error-text bugs of one command are two findings, and replay --minimize
#     keeps the same values (the same C code judges its candidates), so a
#     minimized stream shows the same key again;
#   - a crash: the sanitizer's error type, or the broken invariant, failed
#     assert, UBSan check or libFuzzer error (timeout, out-of-memory), and for
#     sanitizer reports and signals the first three frames of our code (as
#     ClusterFuzz's crash state does; allocation and runtime frames skipped).
# Known: a key that some known stream (corpus/regress/, or listed in
# tests/known-failures/) reproduces on the same binary today (a known key
# without values covers all values of its first part).  A fixed bug's
# regress stream no longer reproduces anything, so finding it again is new.
# What it is not: the campaign (fuzz-campaign.sh) or the pages
# (report-fuzz.sh).
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
. tools/report-lib.sh

MIN_SECONDS=${FUZZ_MINIMIZE_SECONDS:-60}
MIN_RUNS=${FUZZ_MINIMIZE_RUNS:-10000}

# run_target BIN LOG FILE...: one run of BIN on each FILE, as the fuzzer ran
# it but going on after a mismatch (BG_FUZZ_NO_ABORT) and writing no file.
run_target() {
    local bin=$1 log=$2
    shift 2
    env -u BG_FUZZ_ARTIFACTS -u BG_FUZZ_STATS BG_FUZZ_NO_ABORT=1 \
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1 \
        timeout -k 5 300 "$bin" -timeout=25 -rss_limit_mb=2560 "$@" >"$log" 2>&1
}

# parse_keys: a run_target log -> "FILE<TAB>KIND<TAB>KEY<TAB>RAW" per file run;
# a file that crashed the process is the last one, with its crash key.
parse_keys() {
    awk '
        function skip_frame(f) {
            return f ~ /^(__|_start|main$|abort$|raise$|gsignal$|malloc$|calloc$|realloc$|free$|strdup$|strndup$|fuzzer::|LLVMFuzzer|bg_(malloc|calloc|realloc|strdup|asprintf)$)/
        }
        function frames(from,   i, f, n, out) {
            n = 0; out = ""
            for (i = from + 1; i <= nb && n < 3; i++) {
                if (b[i] !~ /^ +#[0-9]+ /) { if (n || i > from + 2) break; else continue }
                if (!match(b[i], / in [^ ]+/)) continue
                f = substr(b[i], RSTART + 4, RLENGTH - 4)
                if (skip_frame(f)) continue
                out = out (n ? " < " : "") f; n++
            }
            return out == "" ? "" : " in " out
        }
        function crash_key(   i, l, m) {
            kind = "crash"; raw = ""
            for (i = 1; i <= nb; i++) {
                l = b[i]
                if (l ~ /invariant broken: /) { raw = l; m = l; sub(/.*invariant broken: /, "", m); sub(/: .*/, "", m); return "invariant broken: " m }
                if (l ~ /Assertion `.*. failed/) { raw = l; m = l; sub(/^[^ ]*: /, "", m); return m }
                if (l ~ /ERROR: libFuzzer: timeout/) { kind = "timeout"; raw = l; return "timeout" }
                if (l ~ /ERROR: libFuzzer: out-of-memory/) { kind = "oom"; raw = l; return "out-of-memory" }
                if (l ~ /ERROR: LeakSanitizer/) {
                    kind = "leak"; raw = l
                    for (; i <= nb; i++) if (b[i] ~ /^(Direct|Indirect) leak/) break
                    return "LeakSanitizer: leak" frames(i)
                }
                if (l ~ /runtime error: /) {
                    raw = l; m = l; sub(/:[0-9]+: runtime error: /, ": runtime error: ", m)
                    gsub(/[0-9]+/, "N", m); sub(/^.*\//, "", m); return m
                }
                if (l ~ /ERROR: [A-Za-z]+Sanitizer: /) {
                    raw = l; m = l; sub(/.*ERROR: /, "", m); sub(/ on (unknown )?address.*/, "", m); sub(/ on 0x.*/, "", m)
                    return m frames(i)
                }
            }
            for (i = 1; i <= nb; i++) if (b[i] ~ /deadly signal/) { raw = b[i]; return "deadly signal" frames(i) }
            return "crash without a report"
        }
        function emit(f, k, r) { printf "%s\t%s\t%s\t%s\n", f, kind, k, r }
        /^Running: / { cur = substr($0, 10); nb = 0; mm = ""; next }
        cur == "" { next }
        /^bgraph-mismatch: / && mm == "" { mm = substr($0, 18); mkey = ""; detail = ""; nd = 0; next }
        /^bgraph-mismatch: / { nd = 3; next }   # the same input run again (leak check)
        /^bgraph-key: / && mkey == "" { mkey = substr($0, 13); next }
        # what the runner said about it (the values on each side: 2 lines)
        mm != "" && nd < 3 && !/^(bgraph-|Executed |Running: )/ {
            l = $0; sub(/^ +/, "", l); if (length(l) > 300) l = substr(l, 1, 300) "..."
            nd++
            if (l !~ /backends differ on/) { sub(/^fuzz-input.jsonl:[0-9]*: /, "", l); detail = detail " | " l }
            next
        }
        /^Executed / && index($0, cur) {
            if (mm != "" && mkey == "") mkey = "mismatch: (no bgraph-key line) " mm
            if (mm != "") { kind = "mismatch"; emit(cur, mkey, "bgraph-mismatch: " mm detail) }
            else { kind = ""; emit(cur, "", "") }
            cur = ""; next
        }
        { b[++nb] = $0 }
        END { if (cur != "") emit(cur, crash_key(), raw) }'
}

# keys NAME BIN FILE...: key every FILE; a crash ends a run, so the files
# after it go in another.
cmd_keys() {
    local name=$1 bin=$2 log rest done_n
    shift 2
    log=$(mktemp "${TMPDIR:-/tmp}/fuzz-findings.XXXXXX")
    rest=("$@")
    while [ ${#rest[@]} -gt 0 ]; do
        run_target "$bin" "$log" "${rest[@]}"
        parse_keys <"$log" >"$log.keys"
        cat "$log.keys"
        done_n=$(grep -c . "$log.keys")
        [ "$done_n" -gt 0 ] || done_n=1   # no "Running:" at all: skip one, never loop
        rest=("${rest[@]:$done_n}")
    done
    rm -f "$log" "$log.keys"
}

# The streams whose failures are known: the regression corpus and every
# stream a known-failure list names.
known_streams() {
    {
        ls corpus/regress/*.jsonl 2>/dev/null
        sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' tests/known-failures/*.txt 2>/dev/null
    } | awk '!seen[$0]++' | while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done
}

# known_by KNOWN KEY: the known streams (KNOWN: "KEY<TAB>STREAM" lines) that
# show KEY, space separated.  A known key without its two values (a stream
# whose difference the runner reported without them) stands for every
# value of its command, channel and path.
known_by() {
    K="$2" awk -F'\t' '{ k = ENVIRON["K"]; b = k; sub(/ \| .*/, "", b) }
        $1 == k || ($1 !~ / \| / && $1 == b) { printf "%s%s", n++ ? " " : "", $2 }' "$1"
}

# new OUT NAME KEYS: the distinct keys of KEYS ("FILE<TAB>KIND<TAB>KEY..."
# lines) that no known stream shows, one a line.
cmd_new() {
    local k
    awk -F'\t' '$3 != "" { print $3 }' "$3" | sort -u | while IFS= read -r k; do
        [ -n "$(known_by "$1/$2.known" "$k")" ] || printf '%s\n' "$k"
    done
}

cmd_known() {
    local out=$1 name=$2 bin=$3 files
    mapfile -t files < <(known_streams)
    : >"$out/$name.known"
    [ ${#files[@]} -gt 0 ] || return 0
    cmd_keys "$name" "$bin" "${files[@]}" |
        awk -F'\t' '$3 != "" { print $3 "\t" $1 }' >"$out/$name.known"
}

# minimize OUT NAME BIN KIND KEY REP DEST: DEST gets a smaller input with the
# same key, or nothing; prints the note.
minimize() {
    local out=$1 name=$2 bin=$3 kind=$4 key=$5 rep=$6 dest=$7 how got scratch
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-findings.XXXXXX")
    rm -f "$dest"
    case $kind in
    mismatch)
        how="build/replay --backend=model,real --compare-data --minimize"
        timeout -k 5 "$MIN_SECONDS" build/replay --backend=model,real --compare-data \
            --scratch="$scratch" --minimize="$dest" "$rep" >"$dest.minimize.log" 2>&1 ;;
    crash | leak)
        how="$(basename "$bin") -minimize_crash=1 -runs=$MIN_RUNS"
        BG_FUZZ_NO_ABORT=1 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}dedup_token_length=3 \
            timeout -k 5 $((MIN_SECONDS + 30)) "$bin" -minimize_crash=1 -runs="$MIN_RUNS" \
            -max_total_time="$MIN_SECONDS" -artifact_prefix="$scratch/" \
            -exact_artifact_path="$dest" "$rep" >"$dest.minimize.log" 2>&1 ;;
    *)
        rm -rf "$scratch"
        echo "not minimized: a $kind is not"; return ;;
    esac
    rm -rf "$scratch"
    if [ ! -s "$dest" ]; then
        rm -f "$dest"; echo "not minimized: $how wrote nothing"; return
    fi
    got=$(cmd_keys "$name" "$bin" "$dest" | cut -f3)
    if [ "$got" != "$key" ]; then
        rm -f "$dest"; echo "not minimized: $how gave another result (${got:-it ran clean})"; return
    fi
    echo "minimized with $how: $(wc -l <"$rep") -> $(wc -l <"$dest") lines, $(wc -c <"$rep") -> $(wc -c <"$dest") bytes, same key"
}

cmd_triage() {
    local out=$1 name=$2 bin=$3 dir=$1/artifacts/$2 new=0 distinct=0
    local files f key kind id rep count status by ext min note raw
    [ -f "$out/$name.known" ] || cmd_known "$out" "$name" "$bin"
    # Every reproducer keyed afresh: the harness may have rewritten one since
    # the progress lines keyed it.
    mapfile -t files < <(find "$dir" -maxdepth 1 -type f ! -name "slow-unit-*" ! -name "*.tmp[0-9]*" 2>/dev/null | sort)
    : >"$out/$name.keys"
    [ ${#files[@]} -gt 0 ] && cmd_keys "$name" "$bin" "${files[@]}" >"$out/$name.keys"
    mkdir -p "$out/minimized"
    ext=""; replays_as_stream "$name" && ext=.jsonl
    : >"$out/$name.findings"
    while IFS= read -r key; do
        [ -n "$key" ] || continue
        distinct=$((distinct + 1))
        id=$(printf '%s' "$key" | sha1sum | cut -c1-12)
        count=$(K="$key" awk -F'\t' '$3 == ENVIRON["K"]' "$out/$name.keys" | grep -c .)
        # The representative: the smallest reproducer, then by name.
        rep=$(K="$key" awk -F'\t' '$3 == ENVIRON["K"] { print $1 }' "$out/$name.keys" |
              while IFS= read -r f; do printf '%s\t%s\n' "$(wc -c <"$f")" "$f"; done |
              sort -t$'\t' -k1,1n -k2 | head -n 1 | cut -f2)
        kind=$(awk -F'\t' -v f="$rep" '$1 == f { print $2; exit }' "$out/$name.keys")
        raw=$(awk -F'\t' -v f="$rep" '$1 == f { print $4; exit }' "$out/$name.keys")
        by=$(known_by "$out/$name.known" "$key")
        if [ -n "$by" ]; then status=known; else status=new; new=$((new + 1)); fi
        min=$out/minimized/$name-$id$ext
        note=$(minimize "$out" "$name" "$bin" "$kind" "$key" "$rep" "$min")
        [ -s "$min" ] || min=$rep
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$key" "$kind" "$count" "$status" \
            "${by:--}" "$rep" "$min" "$note" "$raw" >>"$out/$name.findings"
    done < <(awk -F'\t' '$3 != "" { print $3 }' "$out/$name.keys" | sort -u)
    echo "$distinct $new"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
keys)   cmd_keys "$@" ;;
new)    cmd_new "$@" ;;
known)  cmd_known "$@" ;;
triage) cmd_triage "$@" ;;
*)      echo "usage: tools/fuzz-findings.sh keys|known|new|triage ..." >&2; exit 2 ;;
esac
