#!/usr/bin/env bash
# Is the load generator what we measure? sttbench load and wrk (Debian's wrk)
# against the same endpoint (sttd's GET /health) at the same fixed concurrency,
# one generator thread each, alternating, ROUNDS times. Prints requests/s, p50
# and p99 of both. Usage: scripts/compare_with_wrk.sh [CONCURRENCY] [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
conc=${1:-8} secs=${2:-10} rounds=${3:-3}
build=${BUILD_DIR:-build}
scripts/build.sh "$build"
source scripts/sttd_start.sh
sttd_start "$build" --workers 1 --profiles fast --max-connections 1024
url="$STTD_URL/health"
printf '%-8s %5s %10s %10s %10s\n' tool round req/s p50_ms p99_ms
for r in $(seq 1 "$rounds"); do
  w=$(wrk -t1 -c"$conc" -d"${secs}s" --latency "$url")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$w")
  p50=$(awk '$1=="50%" {print $2}' <<<"$w")
  p99=$(awk '$1=="99%" {print $2}' <<<"$w")
  printf '%-8s %5s %10s %10s %10s\n' wrk "$r" "$rps" "$p50" "$p99"
  s=$("$build/sttbench" load --url "$url" --method GET --concurrency "$conc" \
        --duration "$secs" --warmup 1 2>/dev/null | awk '$1 ~ /^c=/')
  printf '%-8s %5s %10s %10s %10s\n' sttbench "$r" \
    "$(awk '{print $3}' <<<"$s")" "$(awk '{printf "%.3fms", $5*1000}' <<<"$s")" \
    "$(awk '{printf "%.3fms", $8*1000}' <<<"$s")"
done
