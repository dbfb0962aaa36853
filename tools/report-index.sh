#!/usr/bin/env bash
# tools/report-index.sh: reports/index.html, the page a person opens first:
# the latest coverage report (reports/coverage/) and every fuzz campaign run
# (reports/fuzz/<run>/), newest first.  Run by tools/coverage.sh and
# tools/report-fuzz.sh after they write their pages; safe to run any time.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
. tools/report-lib.sh

R=reports
out=$R/index.html
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT

stat_of() { awk -F'\t' -v k="$2" '$1 == k { print $2; exit }' "$1" 2>/dev/null; }

{
    html_head "bgraph reports"
    printf '<h1>bgraph reports</h1>\n'
    printf '<p class="sub">Coverage (<code>make coverage</code>) and fuzz campaigns (<code>make fuzz</code>); see <a href="README.md">README.md</a> for what each page holds.</p>\n'

    printf '<h2>Coverage</h2>\n'
    if [ -f "$R/coverage/parts.tsv" ]; then
        printf '<p><a href="coverage/index.html">Latest coverage report</a>: %s</p>\n' \
            "$(html_esc "$(head -n 1 "$R/coverage/summary.txt" 2>/dev/null)")"
        printf '<table>\n<tr><th>part</th><th>lines</th><th>functions</th><th>branches</th><th>lines from the corpus alone</th><th>floor</th></tr>\n'
        while IFS=$'\t' read -r part title lines funcs branches corpus floor; do
            printf '<tr><td><a href="coverage/%s/index.html">%s</a></td><td class="n %s">%s</td><td class="n %s">%s</td><td class="n %s">%s</td><td class="n %s">%s</td><td class="n">%s</td></tr>\n' \
                "$part" "$(html_esc "$title")" \
                "$(cov_class "${lines%%%*}")" "$lines" "$(cov_class "${funcs%%%*}")" "$funcs" \
                "$(cov_class "${branches%%%*}")" "$branches" "$(cov_class "${corpus%%%*}")" "$corpus" "$floor"
        done <"$R/coverage/parts.tsv"
        printf '</table>\n'
    else
        printf '<p class="none">No coverage report yet: run <code>make coverage</code>.</p>\n'
    fi

    printf '<h2>Fuzz campaigns</h2>\n'
    runs=$(ls -1d "$R"/fuzz/*/ 2>/dev/null | sort -r)
    if [ -z "$runs" ]; then
        printf '<p class="none">No campaign yet: run <code>make fuzz</code>.</p>\n'
    else
        printf '<table>\n<tr><th>run</th><th>started</th><th>seconds per target</th><th>jobs</th><th>targets</th>'
        printf '<th>executions</th><th>exec/s</th><th>cov</th><th>corpus</th><th>findings</th></tr>\n'
        for d in $runs; do
            d=${d%/}
            run=$(basename "$d")
            page=fuzz/$run/index.html
            [ -f "$R/$page" ] || page=fuzz/$run/report.txt
            if [ ! -f "$d/run.tsv" ]; then
                printf '<tr><td><a href="%s">%s</a></td><td colspan="9" class="none">no summary (an older run, or one that stopped early)</td></tr>\n' "$page" "$run"
                continue
            fi
            targets="" execs="" eps="" cov="" corp="" findings=0
            for s in "$d"/*.stats; do
                [ -f "$s" ] || continue
                t=$(stat_of "$s" target)
                targets="$targets$t<br>"
                execs="$execs$(stat_of "$s" executions)<br>"
                eps="$eps$(stat_of "$s" 'executions per second')<br>"
                cov="$cov$(stat_of "$s" cov)<br>"
                corp="$corp$(stat_of "$s" 'corpus in memory')<br>"
                n=$(grep -c . "$d/$t.findings" 2>/dev/null)
                findings=$((findings + ${n:-0}))
            done
            printf '<tr><td><a href="%s">%s</a></td><td>%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n %s">%s</td></tr>\n' \
                "$page" "$run" "$(html_esc "$(stat_of "$d/run.tsv" started)")" \
                "$(stat_of "$d/run.tsv" seconds)" "$(stat_of "$d/run.tsv" jobs)" \
                "${targets:-<span class=none>none ran</span>}" "$execs" "$eps" "$cov" "$corp" \
                "$([ $findings -gt 0 ] && echo bad || echo ok)" "$findings"
        done
        printf '</table>\n'
    fi
    html_foot
} >"$tmp"
mv "$tmp" "$out"
echo "$out"
