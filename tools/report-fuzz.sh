#!/usr/bin/env bash
# tools/report-fuzz.sh: the report of one fuzz campaign (reports/fuzz/<run>/),
# the report-writing part of tools/fuzz-campaign.sh.
#
#   report-fuzz.sh begin OUT SECONDS JOBS
#       OUT/run.tsv: run id, start, seconds per target, jobs, revision.
#   report-fuzz.sh stamp PROGRESS [START_US]
#       a filter: copies libFuzzer's output through unchanged and appends
#       "MILLISECONDS<TAB>LINE" to PROGRESS for its "#N ..." lines and its
#       "Done N runs" line (libFuzzer prints no clock; the plot needs one),
#       counted from START_US (microseconds since the epoch) or from now.
#   report-fuzz.sh unsupported DIR
#       the per-process counts fuzz_diff wrote in DIR (BG_FUZZ_STATS: one
#       "bgraph-fuzz-stats: ..." line per process, fuzz/fuzz_stats.h), summed
#       over every process of the campaign (restarts, fork-mode jobs):
#       "KEY<TAB>VALUE" lines for NAME.stats: inputs run, inputs ending in
#       unsupported, unsupported share, unsupported by command (all, by
#       count), inputs that differed.  Nothing when DIR holds no file.
#   report-fuzz.sh target OUT NAME BINARY CORPUS RC
#       after a target ran and tools/fuzz-findings.sh wrote OUT/NAME.findings:
#       OUT/NAME.stats (the figures), OUT/NAME.plot.tsv (seconds, executions,
#       cov, ft, corpus inputs, corpus bytes, exec/s), OUT/NAME.txt (its
#       block of report.txt); prints the number of findings.
#   report-fuzz.sh page OUT
#       OUT/report.txt (the targets' blocks), OUT/plot-NAME.png (gnuplot:
#       coverage, features and corpus size over time) and OUT/index.html;
#       then reports/index.html (report-index.sh).
#
# What it is not: the campaign (tools/fuzz-campaign.sh runs the targets and
# decides the exit status) nor the triage (tools/fuzz-findings.sh: keys,
# known or new, minimization).
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
. tools/report-lib.sh


now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
stat_of() { awk -F'\t' -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# ---- begin --------------------------------------------------------------------

cmd_begin() {
    local out=$1 seconds=$2 jobs=$3
    {
        printf 'run\t%s\n' "$(basename "$out")"
        printf 'started\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        printf 'seconds\t%s\n' "$seconds"
        printf 'jobs\t%s\n' "$jobs"
        printf 'revision\t%s\n' "$(git describe --always --dirty 2>/dev/null || echo unknown)"
        printf 'cores\t%s\n' "$(nproc 2>/dev/null || echo '?')"
    } >"$out/run.tsv"
}

# ---- stamp ----------------------------------------------------------------------

cmd_stamp() {
    local progress=$1 start=${2:-} line t
    [ -n "$start" ] || start=$(now_us)
    : >>"$progress"
    while IFS= read -r line; do
        printf '%s\n' "$line"
        case $line in
        '#'[0-9]* | 'Done '*)
            t=$(now_us)
            printf '%d\t%s\n' $(((t - start) / 1000)) "$line" >>"$progress" ;;
        esac
    done
}

# ---- unsupported --------------------------------------------------------------------

cmd_unsupported() {
    local dir=$1 files
    mapfile -t files < <(find "$dir" -maxdepth 1 -type f -name 'stats-*.txt' 2>/dev/null | sort)
    [ ${#files[@]} -gt 0 ] || return 0
    # only each file's first line: a process killed while it rewrote the
    # file leaves its new line complete at the top
    awk 'FNR == 1 && /^bgraph-fuzz-stats: / {
            for (i = 2; i <= NF; i++) {
                k = $i; v = k; sub(/=.*/, "", k); sub(/^[^=]*=/, "", v)
                if (k == "inputs") inputs += v
                else if (k == "unsupported") unsup += v
                else if (k == "differed") differed += v
                else if (k == "unsupported-by" && v != "-") {
                    n = split(v, e, ",")
                    for (j = 1; j <= n; j++) {
                        c = e[j]; cnt = c; sub(/:[0-9]+$/, "", c); sub(/.*:/, "", cnt)
                        if (!(c in by)) order[++nc] = c
                        by[c] += cnt
                    }
                }
            }
        }
        END {
            # by count, then name (a few names: a selection sort)
            for (i = 1; i <= nc; i++)
                for (j = i + 1; j <= nc; j++)
                    if (by[order[j]] > by[order[i]] || (by[order[j]] == by[order[i]] && order[j] < order[i])) {
                        t = order[i]; order[i] = order[j]; order[j] = t
                    }
            list = ""
            for (i = 1; i <= nc; i++) list = list (i > 1 ? ", " : "") order[i] " " by[order[i]]
            printf "inputs run\t%d\n", inputs
            printf "inputs ending in unsupported\t%d\n", unsup
            printf "unsupported share\t%s\n", inputs ? sprintf("%.1f%%", 100 * unsup / inputs) : "-"
            printf "unsupported by command\t%s\n", list == "" ? "-" : list
            printf "inputs that differed\t%d\n", differed
        }' "${files[@]}"
}

# unsupported_line STATS NAME: the report.txt line, top 5 commands (a target
# that runs streams and left no counts says so: a blind spot not measured).
unsupported_line() {
    local share n inputs by
    share=$(stat_of "$1" 'unsupported share')
    if [ -z "$share" ]; then
        replays_as_stream "$2" && echo "inputs ending in unsupported: ? (no counts in unsupported/$2/: see $2.log)"
        return 0
    fi
    n=$(stat_of "$1" 'inputs ending in unsupported')
    inputs=$(stat_of "$1" 'inputs run')
    by=$(stat_of "$1" 'unsupported by command' | awk -F', ' '{ for (i = 1; i <= NF && i <= 5; i++) printf "%s%s", (i > 1 ? ", " : ""), $i }')
    echo "inputs ending in unsupported: $share ($n of $inputs inputs; top: ${by:--})"
}

# ---- target -----------------------------------------------------------------------

# progress_tsv PROGRESS: seconds, executions, cov, ft, corpus inputs, corpus
# bytes, exec/s for every "#N" line.  In fork mode (-fork=N) only the parent's
# "#N: cov: ..." lines count: the log also holds a crashed job's own lines.
progress_tsv() {
    local fork=0
    grep -qE '^[0-9]+'$'\t''#[0-9]+: ' "$1" && fork=1
    awk -F'\t' -v fork=$fork '
        function bytes(s,   n) {
            n = s + 0
            if (s ~ /Gb$/) return n * 1073741824
            if (s ~ /Mb$/) return n * 1048576
            if (s ~ /Kb$/) return n * 1024
            return n
        }
        $2 ~ /^#[0-9]/ && (!fork || $2 ~ /^#[0-9]+: /) {
            line = substr($0, index($0, "\t") + 2); n = split(line, w, /[ \t]+/)
            execs = w[1]; sub(/:$/, "", execs)
            cov = ft = corp = size = eps = ""
            for (i = 2; i < n; i++) {
                if (w[i] == "cov:") cov = w[i + 1]
                else if (w[i] == "ft:") ft = w[i + 1]
                else if (w[i] == "exec/s:" || w[i] == "exec/s") eps = w[i + 1]
                else if (w[i] == "corp:") {
                    c = w[i + 1]; k = index(c, "/")
                    if (k) { corp = substr(c, 1, k - 1); size = bytes(substr(c, k + 1)) } else corp = c
                }
            }
            if (cov == "") next
            printf "%.3f\t%s\t%s\t%s\t%s\t%s\t%s\n", $1 / 1000, execs, cov, ft, corp, size, eps
        }' "$1"
}

cmd_target() {
    local out=$1 name=$2 bin=$3 corpus=$4 rc=$5
    local log=$out/$name.log stats=$out/$name.stats findings=$out/$name.findings
    local execs rate="" newunits rss runlen cov ft corp corpbytes seeds files bytes last
    progress_tsv "$out/$name.progress" >"$out/$name.plot.tsv"
    # A target started again after a crash printed its stats once per run:
    # executions and new inputs add up, RSS is the peak; the run length is
    # the campaign's wall clock for the target (NAME.runlen).
    execs=$(awk '/^stat::number_of_executed_units:/ { s += $2; n++ } END { if (n) print s }' "$log")
    newunits=$(awk '/^stat::new_units_added:/ { s += $2; n++ } END { if (n) print s }' "$log")
    rss=$(awk '/^stat::peak_rss_mb:/ { if ($2 > m) m = $2; n++ } END { if (n) print m }' "$log")
    runlen=$(cat "$out/$name.runlen" 2>/dev/null)
    [ -n "$execs" ] && [ -n "$runlen" ] && rate=$(awk -v e="$execs" -v t="$runlen" 'BEGIN { if (t > 0) printf "%d", e / t }')
    if [ -z "$runlen" ]; then   # no wall clock: the last stamp
        runlen=$(awk -F'\t' 'END { if (NR) printf "%.1f", $1 / 1000 }' "$out/$name.progress")
    fi
    last=$(tail -n 1 "$out/$name.plot.tsv")
    cov=$(printf '%s' "$last" | cut -f3)
    ft=$(printf '%s' "$last" | cut -f4)
    corp=$(printf '%s' "$last" | cut -f5)
    corpbytes=$(printf '%s' "$last" | cut -f6)
    [ -n "$execs" ] || execs=$(printf '%s' "$last" | cut -f2)
    [ -n "$rate" ] || rate=$(printf '%s' "$last" | cut -f7)   # fork mode: no final stats
    seeds=$(sed -n 's/^INFO: seed corpus: files: \([0-9]*\).*/\1/p' "$log" | head -n 1)
    files=$(find "$corpus" -type f 2>/dev/null | wc -l)
    bytes=$(find "$corpus" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
    {
        printf 'target\t%s\n' "$name"
        printf 'exit status\t%s\n' "$rc"
        printf 'run length\t%s\n' "${runlen:-?}"
        printf 'executions\t%s\n' "${execs:-?}"
        printf 'executions per second\t%s\n' "${rate:-?}"
        printf 'cov\t%s\n' "${cov:-?}"
        printf 'ft\t%s\n' "${ft:-?}"
        printf 'corpus in memory\t%s\n' "${corp:-?}"
        printf 'corpus in memory bytes\t%s\n' "${corpbytes:-?}"
        printf 'corpus files\t%s\n' "$files"
        printf 'corpus bytes\t%s\n' "$bytes"
        printf 'corpus dir\t%s\n' "$corpus"
        printf 'seed inputs\t%s\n' "${seeds:-?}"
        printf 'new units\t%s\n' "${newunits:-?}"
        printf 'peak rss mb\t%s\n' "${rss:-?}"
        cmd_unsupported "$out/unsupported/$name"
    } >"$stats"

    local n known=0 new=0 runs
    n=$(grep -c . "$out/$name.findings" 2>/dev/null)
    new=$(awk -F'\t' '$5 == "new"' "$out/$name.findings" 2>/dev/null | grep -c .)
    known=$((n - new))
    runs=$(grep -c '^== .*started again' "$log")
    {
        echo "target: $name"
        echo "seconds: $(awk -F'\t' '$1 == "seconds" { print $2 }' "$out/run.tsv")"
        echo "run length (seconds): ${runlen:-?}"
        echo "restarts after a crash: $runs"
        echo "executions: ${execs:-?}"
        echo "executions per second: ${rate:-?}"
        echo "coverage (libFuzzer cov): ${cov:-?}"
        echo "features (ft): ${ft:-?}"
        echo "corpus size: $files"
        unsupported_line "$stats" "$name"
        echo "reproducers written: $(grep -c . "$out/$name.keys" 2>/dev/null)"
        echo "findings: $n distinct ($new new, $known known)"
        while IFS=$'\t' read -r id key kind count st by rep min note raw; do
            echo "  finding $id ($kind, $st): $key"
            echo "    seen in: $count reproducer(s); the smallest: $rep"
            [ "$st" = known ] && echo "    known from: $by"
            echo "    signature: $raw"
            echo "    minimized: $min ($note)"
            echo "    reproduce: build/fuzz/$name $min"
            if replays_as_stream "$name"; then
                echo "    replay: build/replay --backend=model,real --compare-data $min"
                echo "    on QEMU: build/replay --backend=qemu,model $min"
            fi
        done <"$out/$name.findings"
        echo
    } >"$out/$name.txt"
    echo "$n"
}

# ---- page -------------------------------------------------------------------------

# plot OUT NAME: OUT/plot-NAME.png (pngcairo, else png), or nothing without
# data.  Top: coverage (cov, left axis) and corpus size (right axis) over
# time; bottom: features (ft) and executions per second.
plot() {
    local out=$1 name=$2 data=$1/$2.plot.tsv term style=steps
    [ -s "$data" ] || return 1
    # A few points (fork mode prints a line per job) show as points.
    [ "$(wc -l <"$data")" -lt 20 ] && style="linespoints pt 7 ps 1"
    command -v gnuplot >/dev/null 2>&1 || return 1
    if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
        term="pngcairo noenhanced size 960,640 font 'sans,10'"
    else
        term="png noenhanced size 960,640"
    fi
    gnuplot >"$out/plot-$name.log" 2>&1 <<EOF
set terminal $term
set output '$out/plot-$name.png'
set datafile separator "\t"
set autoscale xfixmax
set xrange [0:*]
set grid xtics ytics
set key left top Left reverse box opaque
set multiplot layout 2,1 title "$name, run $(basename "$out"): libFuzzer's status lines over time"
set ylabel "coverage: cov (edges)"
set y2label "corpus size (inputs)"
set ytics nomirror
set y2tics
set format x ""
plot '$data' using 1:3 with $style lw 2 lc rgb '#1f77b4' title 'cov (left axis)', \\
     '' using 1:5 axes x1y2 with $style lw 2 lc rgb '#d62728' title 'corpus size (right axis)'
set format x "%g"
set xlabel "seconds since the target started"
set ylabel "features: ft"
set y2label "executions per second"
plot '$data' using 1:4 with $style lw 2 lc rgb '#2ca02c' title 'ft (left axis)', \\
     '' using 1:7 axes x1y2 with lines lw 1 lc rgb '#7f7f7f' title 'exec/s (right axis)'
unset multiplot
EOF
    [ -s "$out/plot-$name.png" ]
}

cmd_page() {
    local out=$1 run name stats n total=0 status
    run=$(basename "$out")
    # report.txt: every target's block (NAME.txt), in the order targets ran.
    for stats in "$out"/*.stats; do
        [ -f "$stats" ] && cat "$out/$(stat_of "$stats" target).txt"
    done >"$out/report.txt"
    local new=0
    for f in "$out"/*.findings; do
        [ -f "$f" ] || continue
        total=$((total + $(grep -c . "$f")))
        new=$((new + $(awk -F"\t" "\$5 == \"new\"" "$f" | grep -c .)))
    done
    status="no finding"
    [ $total -gt 0 ] && status="$total finding(s), $new new"
    {
        html_head "fuzz campaign $run" "../../"
        printf '<h1>Fuzz campaign %s</h1>\n' "$(html_esc "$run")"
        printf '<p class="sub">started %s &middot; %s s per target &middot; %s job(s) on %s core(s) &middot; %s &middot; <span class="%s">%s</span></p>\n' \
            "$(html_esc "$(stat_of "$out/run.tsv" started)")" \
            "$(html_esc "$(stat_of "$out/run.tsv" seconds)")" \
            "$(html_esc "$(stat_of "$out/run.tsv" jobs)")" \
            "$(html_esc "$(stat_of "$out/run.tsv" cores)")" \
            "$(html_esc "$(stat_of "$out/run.tsv" revision)")" \
            "$([ $new -gt 0 ] && echo bad || echo ok)" "$status"
        printf '<h2>Figures</h2>\n<table>\n'
        printf '<tr><th>target</th><th>run length</th><th>executions</th><th>exec/s</th><th>cov (edges)</th><th>ft (features)</th>'
        printf '<th>corpus (inputs in memory)</th><th>corpus on disk</th><th>new inputs</th><th>peak RSS</th><th>ending in unsupported</th><th>exit status</th><th>findings</th></tr>\n'
        for stats in "$out"/*.stats; do
            [ -f "$stats" ] || continue
            name=$(stat_of "$stats" target)
            n=$(grep -c . "$out/$name.findings" 2>/dev/null)
            printf '<tr><td><a href="#%s">%s</a></td><td class="n">%s s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td>' \
                "$name" "$name" "$(stat_of "$stats" 'run length')" "$(stat_of "$stats" executions)" \
                "$(stat_of "$stats" 'executions per second')" "$(stat_of "$stats" cov)" "$(stat_of "$stats" ft)"
            printf '<td class="n">%s (%s bytes)</td><td class="n">%s files, %s bytes</td><td class="n">%s</td><td class="n">%s MB</td><td class="n">%s</td><td class="n">%s</td><td class="n %s">%s</td></tr>\n' \
                "$(stat_of "$stats" 'corpus in memory')" "$(stat_of "$stats" 'corpus in memory bytes')" \
                "$(stat_of "$stats" 'corpus files')" "$(stat_of "$stats" 'corpus bytes')" \
                "$(stat_of "$stats" 'new units')" "$(stat_of "$stats" 'peak rss mb')" \
                "$(u=$(stat_of "$stats" 'unsupported share'); [ -n "$u" ] && echo "$u ($(stat_of "$stats" 'inputs ending in unsupported') of $(stat_of "$stats" 'inputs run'))" || echo -)" \
                "$(stat_of "$stats" 'exit status')" "$([ "${n:-0}" -gt 0 ] && echo bad || echo ok)" "${n:-0}"
        done
        printf '</table>\n'
        printf '<p>cov and ft are libFuzzer&rsquo;s counts (edges and features of the instrumented code) from its last status line; '
        printf 'executions, exec/s, new inputs and peak RSS from <code>-print_final_stats=1</code>; the corpus on disk is the campaign&rsquo;s '
        printf 'cumulative corpus directory (it keeps growing across runs).  <a href="report.txt">report.txt</a> has the same figures as text.</p>\n'
        printf '<p>Ending in unsupported: the inputs whose comparison stopped early because a backend answered &ldquo;unsupported&rdquo; to a step that may change state '
        printf '(nothing after it is compared), of all inputs the target ran, summed over its processes (fuzz_diff&rsquo;s <code>BG_FUZZ_STATS</code> counts).  '
        printf 'A large share means the model&rsquo;s gaps leave the fuzzer blind.</p>\n'

        for stats in "$out"/*.stats; do
            [ -f "$stats" ] || continue
            name=$(stat_of "$stats" target)
            printf '<h2 id="%s">%s</h2>\n' "$name" "$name"
            printf '<p>corpus directory <code>%s</code>, seed inputs %s; log: <a href="%s.log">%s.log</a> (libFuzzer&rsquo;s output as it printed it); data of the plot: <a href="%s.plot.tsv">%s.plot.tsv</a></p>\n' \
                "$(html_esc "$(stat_of "$stats" 'corpus dir')")" "$(stat_of "$stats" 'seed inputs')" "$name" "$name" "$name" "$name"
            if [ -n "$(stat_of "$stats" 'unsupported share')" ]; then
                printf '<p>Inputs ending in unsupported: <b>%s</b> (%s of %s inputs; %s differed).  By the command of the unsupported step: %s</p>\n' \
                    "$(stat_of "$stats" 'unsupported share')" "$(stat_of "$stats" 'inputs ending in unsupported')" \
                    "$(stat_of "$stats" 'inputs run')" "$(stat_of "$stats" 'inputs that differed')" \
                    "$(html_esc "$(stat_of "$stats" 'unsupported by command')")"
            fi
            if plot "$out" "$name"; then
                printf '<p><img src="plot-%s.png" alt="%s: coverage and corpus size over time"><br>Times are when each status line was printed (stamped as it went by); values are libFuzzer&rsquo;s own (cov, ft, corp and exec/s of its <code>#N</code> lines).</p>\n' "$name" "$name"
            else
                printf '<p class="none">No plot: libFuzzer printed no status line with coverage (see the log).</p>\n'
            fi
            printf '<h3>Findings</h3>\n'
            if [ ! -s "$out/$name.findings" ]; then
                printf '<p class="ok">None.</p>\n'
            fi
            while IFS=$'\t' read -r id key kind count st by rep min note raw; do
                printf '<h4 id="%s-%s">Finding %s: %s, <span class="%s">%s</span></h4>\n<table>\n' \
                    "$name" "$id" "$id" "$(html_esc "$kind")" "$([ "$st" = new ] && echo bad || echo ok)" "$st"
                printf '<tr><th>key</th><td><code>%s</code></td></tr>\n' "$(html_esc "$key")"
                printf '<tr><th>signature</th><td><code>%s</code><br>(of the smallest reproducer)</td></tr>\n' "$(html_esc "$raw")"
                printf '<tr><th>count</th><td>%s reproducer(s) with this key; the smallest: <a href="artifacts/%s/%s">%s</a></td></tr>\n' \
                    "$count" "$name" "$(basename "$rep")" "$(basename "$rep")"
                if [ "$st" = known ]; then
                    printf '<tr><th>known from</th><td>%s</td></tr>\n' "$(html_esc "$by")"
                else
                    printf '<tr><th>known from</th><td>nothing in corpus/regress/ or tests/known-failures/ reproduces this key</td></tr>\n'
                fi
                if [ "$min" != "$rep" ]; then
                    printf '<tr><th>minimized</th><td><a href="minimized/%s">minimized/%s</a>: %s (<a href="minimized/%s.minimize.log">log</a>)</td></tr>\n' \
                        "$(basename "$min")" "$(basename "$min")" "$(html_esc "$note")" "$(basename "$min")"
                else
                    printf '<tr><th>minimized</th><td>%s</td></tr>\n' "$(html_esc "$note")"
                fi
                printf '<tr><th>replay</th><td><pre>build/fuzz/%s %s' "$name" "$(html_esc "$min")"
                if replays_as_stream "$name"; then
                    printf '\nbuild/replay --backend=model,real --compare-data %s\nbuild/replay --backend=qemu,model %s' "$(html_esc "$min")" "$(html_esc "$min")"
                fi
                printf '</pre></td></tr>\n'
                printf '<tr><th>reproducer</th><td><pre>%s</pre>%s</td></tr>\n' \
                    "$(head -c 8192 "$min" | cat -v | html_escape)" \
                    "$([ "$(wc -c <"$min")" -gt 8192 ] && echo '(first 8 KiB; non-printing bytes shown as cat -v does)' || echo '(non-printing bytes shown as cat -v does)')"
                printf '</table>\n'
            done <"$out/$name.findings"
        done
        html_foot
    } >"$out/index.html"
    bash tools/report-index.sh >/dev/null || echo "report-fuzz: tools/report-index.sh failed" >&2
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
begin)  cmd_begin "$@" ;;
stamp)  cmd_stamp "$@" ;;
unsupported) cmd_unsupported "$@" ;;
target) cmd_target "$@" ;;
page)   cmd_page "$@" ;;
*)      echo "usage: tools/report-fuzz.sh begin|stamp|unsupported|target|page ..." >&2; exit 2 ;;
esac
