#!/usr/bin/env bash
# tools/coverage.sh: what the unit tests, the corpus and the fuzzer reach in
# model/, real/ and the shared code, measured in the coverage build (build/cov,
# `make coverage-build`) and shown as lcov/genhtml pages.
#
#   tools/coverage.sh report [FUZZ_CORPUS_DIR...]        (make coverage)
#       runs the unit tests, every corpus stream (corpus/*/*.jsonl and
#       tests/streams/good/*.jsonl) on every in-process backend (model, and
#       real once `replay --list-backends` names it; never qemu: QEMU is
#       another process) and, when given, every file of the fuzz corpus
#       directories, each replayed as a stream; then genhtml with branch
#       coverage into reports/coverage/{model,real,shared}/, an index page and
#       summary.txt / summary.json; prints the per-file table.
#   tools/coverage.sh floor                              (make check)
#       the corpus alone on the in-process backends; fails when a part's line
#       coverage is below its floor in tests/coverage-floor.txt.
#   tools/coverage.sh set-floor                          (make coverage-floor)
#       measures as `floor` does and rewrites tests/coverage-floor.txt with
#       today's date, the measured values and the floors: the measurement
#       rounded down to a whole percent, less one point of headroom.
#
# Parts: model = model/, real = real/, shared = common/ replay/ qemu/.  Tests,
# fuzz harnesses and system headers are left out of every view.
#
# Why clang source-based coverage (-fprofile-instr-generate -fcoverage-mapping,
# llvm-cov export -format=lcov) and not gcc --coverage with lcov: compared on
# one file with the installed clang 14.0.6, gcc 12.2 and lcov 1.16,
#   - clang's branches are the source's conditions (each operand of && and ||,
#     if/while/for/?:, each switch case, user macros included).  gcc's are
#     machine branches: `(x) ? 1 : 0` in a macro became a setcc and had no
#     branch at all, and every assert() added a never-taken branch, which
#     the house style's assert(x_check()) would turn into hundreds of
#     "missed" branches.  Clang keeps system-header macros (assert) out.
#   - clang is the fuzz targets' compiler (libFuzzer is clang-only), and its
#     counters are exact at any optimisation level; profiles of many
#     processes merge with llvm-profdata.
#   - llvm-cov 14's lcov export has BRDA records, "-" for code never reached,
#     which genhtml 1.16 shows as branch coverage.  lcov --extract would drop
#     them without --rc lcov_branch_coverage=1, so the parts are split here
#     with awk.
# Caveats: LCOV_EXCL markers are not honoured on this path
# (fuzzing-reference.md §5); a process killed by a signal writes no profile,
# so every stream runs in its own process and a crash loses only its counts.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
. tools/report-lib.sh

COV=${COV:-build/cov}
OUT=${COV_REPORT_DIR:-reports/coverage}
FLOOR_FILE=${COV_FLOOR_FILE:-tests/coverage-floor.txt}
FLOOR_PARTS=${COV_FLOOR_PARTS:-real model}
STREAM_TIMEOUT=${COV_STREAM_TIMEOUT:-120}
JOBS=${COV_JOBS:-$(nproc 2>/dev/null || echo 2)}
PARTS="model real shared"

part_title() {
    case $1 in
    model)  echo "model/: the reference model" ;;
    real)   echo "real/: the optimized engine" ;;
    shared) echo "common/, replay/, qemu/: shared code" ;;
    esac
}

die() { echo "coverage: $*" >&2; exit 2; }

# The llvm tools of the clang that built build/cov (profiles are versioned).
find_llvm_tool() {
    local t=$1 major
    major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
    for c in "$t-$major" "$t"; do
        if command -v "$c" >/dev/null 2>&1; then echo "$c"; return 0; fi
    done
    die "$t not found (Debian package llvm; run make deps)"
}

# ---- replaying streams through the instrumented replay tool ------------------

# _replay1 SET BACKEND FILE: one stream, one process, one profile (xargs runs it).
# Prints "RC<TAB>BACKEND<TAB>FILE".
replay1() {
    local set=$1 backend=$2 file=$3 scratch rc
    scratch=$(mktemp -d "$COV_TMP/scratch.XXXXXX")
    LLVM_PROFILE_FILE="$COV_TMP/prof/$set/$backend-%p.profraw" \
        timeout -k 5 "$STREAM_TIMEOUT" "$COV/replay" --backend="$backend" \
        --scratch="$scratch" "$file" >/dev/null 2>&1 </dev/null
    rc=$?
    rm -rf "$scratch"
    printf '%s\t%s\t%s\n' "$rc" "$backend" "$file"
}

# In-process backends of the coverage build: every backend but qemu.
inproc_backends() {
    LLVM_PROFILE_FILE="$COV_TMP/list-backends.profraw" "$COV/replay" --list-backends |
        grep -vx qemu
}

corpus_streams() {
    local f
    for f in corpus/*/*.jsonl tests/streams/good/*.jsonl; do
        [ -f "$f" ] && printf '%s\0' "$f"
    done
}

# run_set SET LIST0: every file of the NUL-separated LIST0 on every in-process
# backend; results appended to $COV_TMP/SET.results.
run_set() {
    local set=$1 list=$2 backend
    mkdir -p "$COV_TMP/prof/$set"
    : >"$COV_TMP/$set.results"
    for backend in $BACKENDS; do
        xargs -0 -r -P "$JOBS" -n 1 bash "$0" _replay1 "$set" "$backend" \
            <"$list" >>"$COV_TMP/$set.results"
    done
}

# set_summary SET: "model: 193 streams, 166 passed, 27 failed, 0 not run; ..."
set_summary() {
    awk -F'\t' '
        { n[$2]++; if ($1 == 0) p[$2]++; else if ($1 == 1) f[$2]++; else if ($1 == 2) r[$2]++; else k[$2]++
          if (!($2 in seen)) { seen[$2] = 1; order[++no] = $2 } }
        END {
            for (i = 1; i <= no; i++) {
                b = order[i]
                printf "%s%s: %d streams, %d passed, %d failed, %d not run, %d crashed or timed out",
                       (i > 1 ? "; " : ""), b, n[b], p[b], f[b], r[b], k[b]
            }
            if (no == 0) printf "none"
        }' "$COV_TMP/$1.results"
}

# Streams that crashed or timed out, for the reader to look at.
set_crashes() {
    awk -F'\t' '$1 > 2 { printf "  %s on %s: exit status %s\n", $3, $2, $1 }' "$COV_TMP/$1.results"
}

# ---- profiles to lcov ---------------------------------------------------------

# merge OUT.profdata DIR...: false when there is no profile at all.
merge() {
    local out=$1; shift
    find "$@" -name '*.profraw' -size +0 2>/dev/null | sort >"$COV_TMP/merge.list"
    [ -s "$COV_TMP/merge.list" ] || return 1
    "$LLVM_PROFDATA" merge -sparse --input-files="$COV_TMP/merge.list" -o "$out"
}

# export_lcov PROFDATA OUT.info BINARY...: lcov with paths relative to the
# tree, only the three parts, and static functions without llvm's "file.c:"
# prefix.
export_lcov() {
    local profdata=$1 out=$2 first=$3; shift 3
    local objs=() o
    for o in "$@"; do [ -x "$o" ] && objs+=(-object "$o"); done
    "$LLVM_COV" export -format=lcov -instr-profile="$profdata" "$first" "${objs[@]}" \
        2>"$COV_TMP/llvm-cov.err" |
    awk -v root="$ROOT" '
        function part(f) {
            if (f ~ /^model\//) return "model"
            if (f ~ /^real\//) return "real"
            if (f ~ /^(common|replay|qemu)\//) return "shared"
            return ""
        }
        /^SF:/ {
            f = substr($0, 4)
            if (index(f, root "/") == 1) f = substr(f, length(root) + 2)
            keep = (part(f) != "")
            if (keep) print "SF:" f
            next
        }
        !keep { next }
        /^FN:/ || /^FNDA:/ {
            c = index($0, ","); name = substr($0, c + 1); sub(/^.*:/, "", name)
            print substr($0, 1, c) name; next
        }
        /^end_of_record/ { print; keep = 0; next }
        { print }' >"$out"
    if [ ! -s "$out" ]; then
        cat "$COV_TMP/llvm-cov.err" >&2
        return 1
    fi
}

# split_parts INFO DIR: DIR/<part>.info for each part (possibly empty).
split_parts() {
    local p
    for p in $PARTS; do : >"$2/$p.info"; done
    awk -v dir="$2" '
        /^SF:/ {
            f = substr($0, 4)
            if (f ~ /^model\//) out = dir "/model.info"
            else if (f ~ /^real\//) out = dir "/real.info"
            else out = dir "/shared.info"
        }
        { print > out }' "$1"
}

# file_table INFO: one line per file, "part file lf lh fnf fnh brf brh", counted
# as genhtml counts (lines with a DA record, functions by name, BRDA records;
# "-" is a branch never reached).
file_table() {
    awk '
        function part(f) {
            if (f ~ /^model\//) return "model"
            if (f ~ /^real\//) return "real"
            return "shared"
        }
        /^SF:/ { f = substr($0, 4); if (!(f in seen)) { seen[f] = 1; files[++nf] = f }; next }
        /^DA:/ {
            split(substr($0, 4), a, ","); k = f SUBSEP a[1]
            if (!(k in da)) { da[k] = 1; lf[f]++ }
            if (a[2] + 0 > 0 && !(k in dh)) { dh[k] = 1; lh[f]++ }
            next
        }
        /^FN:/ {
            c = index($0, ","); k = f SUBSEP substr($0, c + 1)
            if (!(k in fn)) { fn[k] = 1; fnf[f]++ }
            next
        }
        /^FNDA:/ {
            c = index($0, ","); k = f SUBSEP substr($0, c + 1)
            if (substr($0, 6, c - 6) + 0 > 0 && !(k in fh)) { fh[k] = 1; fnh[f]++ }
            next
        }
        /^BRDA:/ {
            split(substr($0, 6), a, ","); k = f SUBSEP a[1] SUBSEP a[2] SUBSEP a[3]
            if (!(k in br)) { br[k] = 1; brf[f]++ }
            if (a[4] != "-" && a[4] + 0 > 0 && !(k in bh)) { bh[k] = 1; brh[f]++ }
            next
        }
        END {
            for (i = 1; i <= nf; i++) {
                f = files[i]
                printf "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", part(f), f,
                       lf[f], lh[f], fnf[f], fnh[f], brf[f], brh[f]
            }
        }' "$1" | sort -t"$(printf '\t')" -k1,1 -k2,2
}

# part_lines TABLE: "part lh lf" for each part (0 0 when absent).
part_lines() {
    local p
    for p in $PARTS; do
        awk -F'\t' -v p="$p" '$1 == p { h += $4; t += $3 } END { printf "%s\t%d\t%d\n", p, h, t }' "$1"
    done
}

# ---- the floor -------------------------------------------------------------------

# floor_of PART: the floor in FLOOR_FILE, or empty.
floor_of() {
    [ -f "$FLOOR_FILE" ] || return 0
    awk -v p="$1" '!/^[ \t]*#/ && $1 == p { print $2; exit }' "$FLOOR_FILE"
}

# measure_corpus: the corpus alone on the in-process backends -> $COV_TMP/corpus.tsv
# (per file) and $COV_TMP/corpus.parts ("part lh lf").
measure_corpus() {
    corpus_streams >"$COV_TMP/corpus.list"
    run_set corpus "$COV_TMP/corpus.list"
    merge "$COV_TMP/corpus.profdata" "$COV_TMP/prof/corpus" ||
        die "no profile was written by the corpus replay (is $COV/replay instrumented?)"
    export_lcov "$COV_TMP/corpus.profdata" "$COV_TMP/corpus.info" "$COV/replay" ||
        die "llvm-cov export failed"
    file_table "$COV_TMP/corpus.info" >"$COV_TMP/corpus.tsv"
    part_lines "$COV_TMP/corpus.tsv" >"$COV_TMP/corpus.parts"
}

pct2() { awk -v h="$1" -v t="$2" 'BEGIN { if (t == 0) print "-"; else printf "%.2f", int(10000 * h / t) / 100 }'; }

cmd_floor() {
    local status=0 p h t floor pct verdict real_note=""
    measure_corpus
    case " $BACKENDS " in *" real "*) ;; *)
        real_note=" (no real backend in $COV/replay --list-backends yet: the corpus cannot reach real/)" ;;
    esac
    echo "coverage floor: corpus alone ($(grep -c . <(tr '\0' '\n' <"$COV_TMP/corpus.list")) streams on $(echo $BACKENDS | tr ' ' ','))"
    [ -f "$FLOOR_FILE" ] || { echo "coverage floor: $FLOOR_FILE is missing" >&2; return 1; }
    for p in $FLOOR_PARTS; do
        floor=$(floor_of "$p")
        read -r _ h t < <(awk -v p="$p" '$1 == p' "$COV_TMP/corpus.parts")
        pct=$(pct2 "$h" "$t")
        if [ -z "$floor" ]; then
            echo "  $p/: $pct% ($h of $t lines): no floor in $FLOOR_FILE"
            continue
        fi
        if [ "$t" -eq 0 ] && awk -v f="$floor" 'BEGIN { exit !(f > 0) }'; then
            verdict="FAIL: no line of $p/ is in the coverage build"
            status=1
        elif awk -v h="$h" -v t="$t" -v f="$floor" 'BEGIN { exit !(t > 0 && 100 * h < f * t) }'; then
            verdict="FAIL: below the floor"
            status=1
        else
            verdict="ok"
            if awk -v h="$h" -v t="$t" -v f="$floor" 'BEGIN { exit !(t > 0 && 100 * h >= (f + 5) * t) }'; then
                verdict="ok; 5 points or more above the floor: raise it with make coverage-floor"
            fi
        fi
        echo "  $p/: $pct% ($h of $t lines), floor $floor%: $verdict$( [ "$p" = real ] && echo "$real_note")"
    done
    if [ -s "$COV_TMP/corpus.results" ] && awk -F'\t' '$1 > 2 { found = 1 } END { exit !found }' "$COV_TMP/corpus.results"; then
        echo "  streams that crashed or timed out (their counts are lost):"
        set_crashes corpus
    fi
    if [ $status -ne 0 ]; then
        echo "coverage floor: a part's line coverage from the corpus is below its floor in $FLOOR_FILE."
        echo "  If the corpus lost streams or the code stopped being reached, fix that; if the"
        echo "  drop is intended, lower the floor (make coverage-floor) and say why in the commit."
    fi
    return $status
}

cmd_set_floor() {
    local p h t pct floor old date new
    measure_corpus
    date=$(date -u +%Y-%m-%d)
    new=$COV_TMP/floor.txt
    cat >"$new" <<'EOF'
# Line-coverage floors enforced by `make check` (tools/coverage.sh floor, run by
# tests/run.sh on build/cov).  A part fails when the corpus alone --
# corpus/*/*.jsonl and tests/streams/good/*.jsonl, each stream replayed on
# every in-process backend replay lists (model, real; never qemu: QEMU is
# another process) through the coverage build; no unit tests, no fuzz
# corpus -- reaches a smaller share of the part's lines than its floor
# (llvm-cov line coverage, counted as in reports/coverage/summary.txt).
# Coverage is deterministic (streams are), so a floor is the measured value
# rounded down to a whole percent, less one point of headroom for code that
# lands a little before the streams that reach it.  `make coverage-floor`
# re-measures and rewrites this file: do it when the corpus reaches more,
# and say why in the commit if a floor goes down.
#
# PART  FLOOR_PERCENT
EOF
    for p in $FLOOR_PARTS; do
        read -r _ h t < <(awk -v p="$p" '$1 == p' "$COV_TMP/corpus.parts")
        pct=$(pct2 "$h" "$t")
        floor=$(awk -v h="$h" -v t="$t" 'BEGIN { f = (t == 0 ? 0 : int(100 * h / t) - 1); print (f < 0 ? 0 : f) }')
        old=$(floor_of "$p")
        {
            printf '# %s/: measured %s on backends %s: %s%% (%d of %d lines)' \
                "$p" "$date" "$(echo $BACKENDS | tr ' ' ',')" "$pct" "$h" "$t"
            if [ "$p" = real ]; then
                case " $BACKENDS " in *" real "*) ;; *)
                    printf '.\n# No real backend is registered yet (real/ has its storage layer only), so\n'
                    printf '# the corpus reaches none of real/: make coverage-floor once it does'
                esac
            fi
            printf '\n%s %s\n' "$p" "$floor"
        } >>"$new"
        echo "coverage floor: $p/ measured $pct% ($h of $t lines): floor ${old:-none} -> $floor"
    done
    cp "$new" "$FLOOR_FILE"
    echo "coverage floor: wrote $FLOOR_FILE"
}

# ---- the report --------------------------------------------------------------------

# table_text TABLE CORPUS_PARTS: the per-file table as text.
# genhtml's rounding of a rate: one decimal, never 100.0 unless all were hit,
# never 0.0 unless none was.
AWK_RATE='
function rate(h, t,   r) {
    r = sprintf("%.1f", 100 * h / t)
    if (r == "100.0" && h < t) r = "99.9"
    if (r == "0.0" && h > 0) r = "0.1"
    return r
}'

table_text() {
    awk -F'\t' -v parts="$PARTS" -v floors="$FLOORS" -v corpus="$2" "$AWK_RATE"'
        function pc(h, t) { return t == 0 ? "-" : rate(h, t) "%" }
        function cell(h, t) { return sprintf("%13s %6s", h "/" t, pc(h, t)) }
        function row(name, a, b, c, d, e, g) {
            printf "%-36s %s   %s   %s\n", name, cell(b, a), cell(d, c), cell(g, e)
        }
        BEGIN {
            np = split(parts, P, " ")
            title["model"] = "model/ (the reference model)"
            title["real"] = "real/ (the optimized engine)"
            title["shared"] = "shared: common/ replay/ qemu/"
            n = split(floors, F, " "); for (i = 1; i + 1 <= n; i += 2) floor[F[i]] = F[i + 1]
            while ((getline line < corpus) > 0) { split(line, a, "\t"); ch[a[1]] = a[2]; ct[a[1]] = a[3] }
        }
        { k = ++rows[$1]; R[$1, k] = $0 }
        END {
            printf "%-36s %20s   %20s   %20s\n", "file", "lines", "functions", "branches"
            h = sprintf("%13s %6s", "hit/total", "%")
            printf "%-36s %s   %s   %s\n", "", h, h, h
            for (i = 1; i <= np; i++) {
                p = P[i]
                printf "\n%s\n", title[p]
                for (j = 0; j < 6; j++) s[j] = 0
                for (k = 1; k <= rows[p]; k++) {
                    split(R[p, k], a, "\t")
                    row(a[2], a[3], a[4], a[5], a[6], a[7], a[8])
                    for (j = 0; j < 6; j++) s[j] += a[j + 3]
                }
                if (rows[p] == 0) printf "  (no file of this part is in the coverage build)\n"
                row("  total " p, s[0], s[1], s[2], s[3], s[4], s[5])
                for (j = 0; j < 6; j++) all[j] += s[j]
            }
            printf "\n"
            row("all parts", all[0], all[1], all[2], all[3], all[4], all[5])
            printf "\nline coverage from the corpus alone (make check floor):"
            for (i = 1; i <= np; i++) {
                p = P[i]
                printf " %s/ %s", p, pc(ch[p], ct[p])
                if (p in floor) printf " (floor %s%%)", floor[p]
                printf (i < np ? ";" : "\n")
            }
        }' "$1"
}

# table_json TABLE CORPUS_PARTS META: summary.json.
table_json() {
    awk -F'\t' -v parts="$PARTS" -v floors="$FLOORS" -v corpus="$2" -v meta="$3" '
        function esc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); return s }
        function pc(h, t) { return t == 0 ? "null" : sprintf("%.2f", int(10000 * h / t) / 100) }
        function m(h, t) { return sprintf("{\"hit\": %d, \"total\": %d, \"percent\": %s}", h, t, pc(h, t)) }
        function cov(a, b, c, d, e, g) {
            return sprintf("\"lines\": %s, \"functions\": %s, \"branches\": %s", m(b, a), m(d, c), m(g, e))
        }
        BEGIN {
            np = split(parts, P, " ")
            n = split(floors, F, " "); for (i = 1; i + 1 <= n; i += 2) floor[F[i]] = F[i + 1]
            while ((getline line < corpus) > 0) { split(line, a, "\t"); ch[a[1]] = a[2]; ct[a[1]] = a[3] }
        }
        { k = ++rows[$1]; R[$1, k] = $0 }
        END {
            printf "{\n"
            ni = 0
            while ((getline line < meta) > 0) {
                c = index(line, "\t"); k = substr(line, 1, c - 1); v = esc(substr(line, c + 1))
                if (k ~ /^input_/) { sub(/^input_/, "", k); gsub(/ /, "_", k); in_k[++ni] = k; in_v[ni] = v; continue }
                printf "  \"%s\": \"%s\",\n", k, v
            }
            printf "  \"inputs\": {"
            for (i = 1; i <= ni; i++) printf "%s\"%s\": \"%s\"", (i > 1 ? ", " : ""), in_k[i], in_v[i]
            printf "},\n"
            printf "  \"parts\": {\n"
            for (i = 1; i <= np; i++) {
                p = P[i]
                for (j = 0; j < 6; j++) s[j] = 0
                printf "    \"%s\": {\n      \"files\": [\n", p
                for (k = 1; k <= rows[p]; k++) {
                    split(R[p, k], a, "\t")
                    printf "        {\"file\": \"%s\", %s}%s\n", esc(a[2]),
                           cov(a[3], a[4], a[5], a[6], a[7], a[8]), (k < rows[p] ? "," : "")
                    for (j = 0; j < 6; j++) s[j] += a[j + 3]
                }
                printf "      ],\n      %s,\n", cov(s[0], s[1], s[2], s[3], s[4], s[5])
                printf "      \"corpus_alone\": {\"lines\": %s, \"floor\": %s}\n", m(ch[p], ct[p]),
                       (p in floor ? floor[p] : "null")
                printf "    }%s\n", (i < np ? "," : "")
                for (j = 0; j < 6; j++) all[j] += s[j]
            }
            printf "  },\n  \"total\": {%s}\n}\n", cov(all[0], all[1], all[2], all[3], all[4], all[5])
        }' "$1"
}

# index_html TABLE CORPUS_PARTS META: reports/coverage/index.html.
index_html() {
    local table=$1 corpus=$2 meta=$3 p
    html_head "bgraph coverage" "../"
    printf '<h1>Coverage: what the tests and the fuzzer reach</h1>\n'
    printf '<p class="sub">%s &middot; %s &middot; %s</p>\n' \
        "$(html_esc "$(awk -F'\t' '$1 == "generated" { print $2 }' "$meta")")" \
        "$(html_esc "$(awk -F'\t' '$1 == "tool" { print $2 }' "$meta")")" \
        "$(html_esc "$(awk -F'\t' '$1 == "revision" { print $2 }' "$meta")")"
    printf '<h2>Inputs</h2>\n<ul>\n'
    awk -F'\t' '
        function h(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
        $1 ~ /^input_/ { sub(/^input_/, "", $1); printf "<li><b>%s</b>: %s</li>\n", h($1), h($2) }' "$meta"
    printf '</ul>\n'
    printf '<h2>Parts</h2>\n'
    printf '<p>Each part has its own genhtml report (lines, functions and branches, per directory and file, with the source annotated).  '
    printf 'Branches are clang&rsquo;s source-level branches: each operand of <code>&amp;&amp;</code> and <code>||</code>, each <code>if</code>/<code>while</code>/<code>for</code>/<code>?:</code> condition and each <code>switch</code> case.</p>\n'
    awk -F'\t' -v parts="$PARTS" -v floors="$FLOORS" -v corpus="$corpus" "$AWK_RATE"'
        function pcv(h, t) { return t == 0 ? "-" : rate(h, t) }
        function cls(h, t) { if (t == 0) return "none"; v = 100 * h / t; return v >= 90 ? "hi" : (v >= 75 ? "med" : "lo") }
        function cell(h, t) { return sprintf("<td class=\"n %s\">%s</td><td class=\"n\">%d / %d</td>", cls(h, t), (t ? pcv(h, t) "%" : "-"), h, t) }
        BEGIN {
            np = split(parts, P, " ")
            title["model"] = "model/ &mdash; the reference model"
            title["real"] = "real/ &mdash; the optimized engine"
            title["shared"] = "shared &mdash; common/, replay/, qemu/"
            n = split(floors, F, " "); for (i = 1; i + 1 <= n; i += 2) floor[F[i]] = F[i + 1]
            while ((getline line < corpus) > 0) { split(line, a, "\t"); ch[a[1]] = a[2]; ct[a[1]] = a[3] }
        }
        { for (j = 3; j <= 8; j++) S[$1, j] += $j; for (j = 3; j <= 8; j++) A[j] += $j; nfiles[$1]++ }
        END {
            print "<table>"
            print "<tr><th>part</th><th>files</th><th colspan=2>lines</th><th colspan=2>functions</th><th colspan=2>branches</th><th>lines from the corpus alone</th><th>floor (make check)</th></tr>"
            for (i = 1; i <= np; i++) {
                p = P[i]
                printf "<tr><td><a href=\"%s/index.html\">%s</a></td><td class=\"n\">%d</td>%s%s%s", p, title[p], nfiles[p],
                       cell(S[p, 4], S[p, 3]), cell(S[p, 6], S[p, 5]), cell(S[p, 8], S[p, 7])
                printf "<td class=\"n %s\">%s (%d / %d)</td><td class=\"n\">%s</td></tr>\n", cls(ch[p], ct[p]),
                       (ct[p] ? pcv(ch[p], ct[p]) "%" : "-"), ch[p], ct[p], (p in floor ? floor[p] "%" : "&ndash;")
            }
            printf "<tr class=\"total\"><td>all parts</td><td></td>%s%s%s<td></td><td></td></tr>\n",
                   cell(A[4], A[3]), cell(A[6], A[5]), cell(A[8], A[7])
            print "</table>"
        }' "$table"
    printf '<p>Also: <a href="summary.txt">summary.txt</a> (the table below, as <code>make coverage</code> prints it), '
    printf '<a href="summary.json">summary.json</a>, <a href="all.info">all.info</a> (lcov, every input), '
    printf '<a href="corpus.info">corpus.info</a> (lcov, the corpus alone).</p>\n'
    printf '<h2>Files</h2>\n'
    awk -F'\t' -v parts="$PARTS" "$AWK_RATE"'
        function pcv(h, t) { return t == 0 ? "-" : rate(h, t) }
        function cls(h, t) { if (t == 0) return "none"; v = 100 * h / t; return v >= 90 ? "hi" : (v >= 75 ? "med" : "lo") }
        function cell(h, t) { return sprintf("<td class=\"n %s\">%s</td><td class=\"n\">%d / %d</td>", cls(h, t), (t ? pcv(h, t) "%" : "-"), h, t) }
        BEGIN { print "<table>"; print "<tr><th>file</th><th colspan=2>lines</th><th colspan=2>functions</th><th colspan=2>branches</th></tr>" }
        {
            printf "<tr><td><a href=\"%s/%s.gcov.html\">%s</a></td>%s%s%s</tr>\n", $1, $2, $2,
                   cell($4, $3), cell($6, $5), cell($8, $7)
        }
        END { print "</table>" }' "$table"
    html_foot
}

# parts_tsv TABLE CORPUS_PARTS: one line per part for reports/index.html:
# part, title, lines, functions, branches, lines from the corpus alone, floor.
parts_tsv() {
    local p
    for p in $PARTS; do
        awk -F'\t' -v p="$p" -v title="$(part_title "$p")" -v floors="$FLOORS" -v corpus="$2" "$AWK_RATE"'
            function c(h, t) { return t == 0 ? "-" : sprintf("%s%% (%d/%d)", rate(h, t), h, t) }
            BEGIN {
                n = split(floors, F, " "); for (i = 1; i + 1 <= n; i += 2) floor[F[i]] = F[i + 1]
                while ((getline line < corpus) > 0) { split(line, a, "\t"); ch[a[1]] = a[2]; ct[a[1]] = a[3] }
            }
            $1 == p { for (j = 3; j <= 8; j++) S[j] += $j }
            END {
                printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p, title, c(S[4], S[3]), c(S[6], S[5]), c(S[8], S[7]),
                       c(ch[p], ct[p]), (p in floor ? floor[p] "%" : "-")
            }' "$1"
    done
}

# genhtml_part PART: reports/coverage/PART/ from $COV_TMP/parts/PART.info.
genhtml_part() {
    local p=$1 info=$COV_TMP/parts/$1.info dir=$OUT_NEW/$1
    mkdir -p "$dir"
    if ! grep -q '^SF:' "$info"; then
        { html_head "bgraph coverage: $(part_title "$p")" "../../"
          printf '<h1>%s</h1>\n<p>No file of this part is in the coverage build.</p>\n' "$(html_esc "$(part_title "$p")")"
          html_foot; } >"$dir/index.html"
        return 0
    fi
    genhtml --quiet --branch-coverage --function-coverage --legend --prefix "$ROOT" \
        --title "bgraph: $(part_title "$p")" --output-directory "$dir" "$info" \
        >"$COV_TMP/genhtml-$p.log" 2>&1 || {
        cat "$COV_TMP/genhtml-$p.log" >&2
        die "genhtml failed for $p"
    }
}

cmd_report() {
    local fuzz_dirs=("$@") unit_line="not built" rc backends_csv d
    mkdir -p "$COV_TMP/prof/unit" "$COV_TMP/parts"

    # 1. unit tests
    if [ -x "$COV/unit" ]; then
        echo "coverage: unit tests"
        LLVM_PROFILE_FILE="$COV_TMP/prof/unit/unit-%p.profraw" "$COV/unit" >"$COV/unit.log" 2>&1 </dev/null
        rc=$?
        unit_line=$(tail -n 1 "$COV/unit.log")
        [ $rc -eq 0 ] || unit_line="$unit_line (exit status $rc; see $COV/unit.log)"
        echo "  $unit_line"
    fi

    # 2. the corpus on the in-process backends
    backends_csv=$(echo $BACKENDS | tr ' ' ',')
    echo "coverage: corpus on $backends_csv"
    corpus_streams >"$COV_TMP/corpus.list"
    run_set corpus "$COV_TMP/corpus.list"
    echo "  $(set_summary corpus)"
    set_crashes corpus

    # 3. the fuzz corpus, each file as a stream
    : >"$COV_TMP/fuzz.results"
    if [ ${#fuzz_dirs[@]} -gt 0 ]; then
        : >"$COV_TMP/fuzz.list"
        for d in "${fuzz_dirs[@]}"; do
            [ -d "$d" ] && find "$d" -type f -print0 | sort -z >>"$COV_TMP/fuzz.list"
        done
        echo "coverage: fuzz corpus ($(tr -cd '\0' <"$COV_TMP/fuzz.list" | wc -c) files from ${fuzz_dirs[*]}) on $backends_csv"
        run_set fuzz "$COV_TMP/fuzz.list"
        echo "  $(set_summary fuzz)"
    fi

    # 4. profiles -> lcov
    echo "coverage: llvm-profdata merge, llvm-cov export"
    merge "$COV_TMP/all.profdata" "$COV_TMP/prof" || die "no profile was written"
    merge "$COV_TMP/corpus.profdata" "$COV_TMP/prof/corpus" || die "the corpus replay wrote no profile"
    export_lcov "$COV_TMP/all.profdata" "$COV_TMP/all.info" "$COV/replay" "$COV/unit" ||
        die "llvm-cov export failed"
    export_lcov "$COV_TMP/corpus.profdata" "$COV_TMP/corpus.info" "$COV/replay" ||
        die "llvm-cov export failed"
    file_table "$COV_TMP/all.info" >"$COV_TMP/all.tsv"
    file_table "$COV_TMP/corpus.info" >"$COV_TMP/corpus.tsv"
    part_lines "$COV_TMP/corpus.tsv" >"$COV_TMP/corpus.parts"
    split_parts "$COV_TMP/all.info" "$COV_TMP/parts"

    # 5. pages, built aside and swapped in whole
    OUT_NEW=$OUT.new.$$
    rm -rf "$OUT_NEW"; mkdir -p "$OUT_NEW"
    echo "coverage: genhtml --branch-coverage into $OUT/{${PARTS// /,}}/"
    for p in $PARTS; do genhtml_part "$p"; done
    {
        printf 'generated\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
        printf 'tool\t%s\n' "clang $(clang -dumpversion) source-based coverage ($COV), llvm-cov export -format=lcov, $(genhtml --version 2>/dev/null | sed 's/^genhtml: //')"
        printf 'revision\t%s\n' "$(git describe --always --dirty 2>/dev/null || echo unknown)"
        printf 'input_unit tests\t%s\n' "$unit_line"
        printf 'input_corpus\t%s (%s)\n' "$(set_summary corpus)" "corpus/*/*.jsonl and tests/streams/good/*.jsonl"
        if [ -s "$COV_TMP/fuzz.results" ]; then
            printf 'input_fuzz corpus\t%s (%s)\n' "$(set_summary fuzz)" "${fuzz_dirs[*]}"
        else
            printf 'input_fuzz corpus\t%s\n' "none (make coverage FUZZ_SECONDS=N runs a campaign first and replays its corpus)"
        fi
    } >"$COV_TMP/meta.tsv"
    cp "$COV_TMP/all.info" "$COV_TMP/corpus.info" "$OUT_NEW/"
    {
        printf 'bgraph coverage, %s; %s; %s\n' \
            "$(awk -F'\t' '$1 == "generated" { print $2 }' "$COV_TMP/meta.tsv")" \
            "$(awk -F'\t' '$1 == "revision" { print $2 }' "$COV_TMP/meta.tsv")" \
            "$(awk -F'\t' '$1 == "tool" { print $2 }' "$COV_TMP/meta.tsv")"
        awk -F'\t' '$1 ~ /^input_/ { sub(/^input_/, "", $1); printf "input: %s: %s\n", $1, $2 }' "$COV_TMP/meta.tsv"
        echo
        table_text "$COV_TMP/all.tsv" "$COV_TMP/corpus.parts"
    } >"$OUT_NEW/summary.txt"
    table_json "$COV_TMP/all.tsv" "$COV_TMP/corpus.parts" "$COV_TMP/meta.tsv" >"$OUT_NEW/summary.json"
    index_html "$COV_TMP/all.tsv" "$COV_TMP/corpus.parts" "$COV_TMP/meta.tsv" >"$OUT_NEW/index.html"
    parts_tsv "$COV_TMP/all.tsv" "$COV_TMP/corpus.parts" >"$OUT_NEW/parts.tsv"
    rm -rf "$OUT"
    mv "$OUT_NEW" "$OUT"
    cp "$COV_TMP/all.profdata" "$COV_TMP/corpus.profdata" "$COV/" 2>/dev/null
    bash tools/report-index.sh >/dev/null || echo "coverage: tools/report-index.sh failed" >&2

    echo
    cat "$OUT/summary.txt"
    echo
    echo "coverage: $OUT/index.html (views: $(for p in $PARTS; do printf '%s ' "$OUT/$p/index.html"; done))"
}

# ---- main ------------------------------------------------------------------------

cmd=${1:-}
[ $# -gt 0 ] && shift
if [ "$cmd" = _replay1 ]; then
    replay1 "$@"
    exit 0
fi

[ -x "$COV/replay" ] || die "$COV/replay is missing: run make coverage-build"
LLVM_COV=$(find_llvm_tool llvm-cov) || exit 2
LLVM_PROFDATA=$(find_llvm_tool llvm-profdata) || exit 2
COV_TMP=$(mktemp -d "$ROOT/$COV/tmp.XXXXXX")
trap 'rm -rf "$COV_TMP"' EXIT
export COV COV_TMP STREAM_TIMEOUT
BACKENDS=$(inproc_backends | tr '\n' ' ')
[ -n "$BACKENDS" ] || die "$COV/replay lists no in-process backend"
FLOORS=$(for p in $PARTS; do f=$(floor_of "$p"); [ -n "$f" ] && printf '%s %s ' "$p" "$f"; done)

case $cmd in
report)    cmd_report "$@" ;;
floor)     cmd_floor ;;
set-floor) cmd_set_floor ;;
*)         echo "usage: tools/coverage.sh report [FUZZ_CORPUS_DIR...] | floor | set-floor" >&2; exit 2 ;;
esac
