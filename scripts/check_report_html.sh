#!/usr/bin/env bash
# check_report_html.sh: opens the HTML report the way a newcomer would, in headless
# Chromium (Debian's `chromium`, installed here on first use), screenshots it and checks
# that it renders: a non-empty page, no console message (the page has no scripts, so any
# message is an error: a blocked or missing resource, bad markup), every reference link
# landing on a row of the sources table, every chart an embedded image.
# usage: scripts/check_report_html.sh [FILE.html] [SCREENSHOT.png]
#   defaults: docs/PERFORMANCE_REPORT.html and test_reports/report_screenshot.png
# Exit status: 0 clean, 1 a check failed, 2 Chromium unavailable or bad usage.
set -u -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
case "${1:-}" in -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
HTML=${1:-docs/PERFORMANCE_REPORT.html}
PNG=${2:-test_reports/report_screenshot.png}
[ -f "$HTML" ] || { echo "check_report_html: no such file: $HTML" >&2; exit 2; }
mkdir -p "$(dirname "$PNG")" || exit 2

if ! command -v chromium >/dev/null 2>&1; then
    echo "check_report_html: installing chromium (Debian package, once)" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } \
        >/dev/null 2>&1 || { echo "check_report_html: cannot install chromium" >&2; exit 2; }
fi

profile=$(mktemp -d /tmp/chromium-profile.XXXXXX)
log=$(mktemp /tmp/chromium-log.XXXXXX)
dom=$(mktemp /tmp/chromium-dom.XXXXXX)
trap 'rm -rf "$profile" "$log" "$dom"' EXIT
abs=$(cd "$(dirname "$HTML")" && pwd)/$(basename "$HTML")
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --user-data-dir="$profile" --hide-scrollbars --enable-logging=stderr --v=0)
rm -f "$PNG"
timeout 120 chromium "${flags[@]}" --window-size=1280,2400 --screenshot="$PNG" "file://$abs" \
    >"$log" 2>&1
timeout 120 chromium "${flags[@]}" --dump-dom "file://$abs" >"$dom" 2>>"$log"

fail=0
check() { # check CONDITION-STATUS MESSAGE
    if [ "$1" = 0 ]; then echo "ok   $2"; else echo "FAIL $2"; fail=1; fi
}
size=$(stat -c %s "$PNG" 2>/dev/null || echo 0)
[ "$size" -gt 60000 ] # a blank page of this size compresses to about 20 KB
check $? "screenshot $PNG rendered ($size bytes)"
console=$(grep -E 'CONSOLE|Uncaught|Failed to load resource|net::ERR_' "$log" | head -5)
[ -z "$console" ]
check $? "no console messages${console:+: $console}"
grep -q '<h1>Performance report</h1>' "$dom" && grep -q 'Executive summary' "$dom"
check $? "the page is the report (title and executive summary in the rendered DOM)"
refs=$(grep -o 'href="#src-[0-9]*"' "$dom" | sort -u | sed 's/.*#src-\([0-9]*\)"/\1/')
missing=0
for n in $refs; do grep -q "id=\"src-$n\"" "$dom" || missing=$((missing + 1)); done
[ -n "$refs" ] && [ "$missing" = 0 ]
check $? "every reference ($(echo "$refs" | wc -w) distinct) lands on a sources row"
external=$(grep -oE '<img[^>]* src="[^d][^"]*"' "$dom" | head -3)
[ -z "$external" ]
check $? "every chart is embedded (no external image)${external:+: $external}"
[ $fail = 0 ] && echo "check_report_html: $HTML renders cleanly; look at $PNG" ||
    echo "check_report_html: $HTML has problems (Chromium's log: kept in $log.kept)"
[ $fail = 0 ] || cp "$log" "$log.kept"
exit $fail
