# tools/report-lib.sh: what the report writers share (sourced, never run):
# HTML escaping, the page frame and its style sheet, a coverage-colour class.
#
# What this is: the look of every page under reports/ (coverage index, fuzz
# run pages, reports/index.html), written with sed and awk only, so the pages
# come out the same on a minimal Debian 12 (mawk, no python).  What it is not:
# genhtml's own pages (reports/coverage/<part>/), which keep lcov's style.

# stdin -> stdout, safe inside HTML text and attribute values.
html_escape() {
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# html_esc STRING: the same, for one argument.
html_esc() {
    printf '%s' "$1" | html_escape
}

# html_head TITLE [ROOT]: doctype, title and style.  ROOT is the relative path
# to reports/ (for the "all reports" link), empty on reports/index.html.
html_head() {
    local title root
    title=$(html_esc "$1")
    root=${2-}
    cat <<EOF
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>
body { font-family: sans-serif; margin: 1.5em 2em; color: #222; max-width: 75em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eef; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; background: #f4f4f4; }
.hi { background: #a7fc9d; } .med { background: #ffea20; } .lo { background: #ff6230; }
.none { color: #888; }
.ok { color: #070; font-weight: bold; } .bad { color: #b00; font-weight: bold; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.5em; overflow-x: auto;
      max-height: 24em; white-space: pre-wrap; word-break: break-all; }
code { background: #f2f2f2; padding: 0 0.2em; }
img { max-width: 100%; border: 1px solid #ddd; }
nav { font-size: 0.9em; margin-bottom: 1em; }
</style>
</head>
<body>
EOF
    if [ -n "$root" ]; then
        printf '<nav><a href="%sindex.html">all reports</a></nav>\n' "$root"
    fi
}

html_foot() {
    printf '</body>\n</html>\n'
}

# cov_class PERCENT: genhtml's colours (hi >= 90, med >= 75, lo below);
# "none" when there is nothing to cover ("-").
cov_class() {
    awk -v p="$1" 'BEGIN {
        if (p == "-" || p == "") { print "none"; exit }
        if (p + 0 >= 90) print "hi"; else if (p + 0 >= 75) print "med"; else print "lo" }'
}

# replays_as_stream TARGET: true for a fuzz target whose input is a stream run
# on backends (fuzz_diff): its findings replay and minimize with build/replay.
# fuzz_stream (the parser) and the mutator self-test run none.
replays_as_stream() {
    case $1 in
    fuzz_stream | *selftest*) return 1 ;;
    *) return 0 ;;
    esac
}
