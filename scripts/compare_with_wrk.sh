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
log=$(mktemp /tmp/sttd-wrk.XXXXXX)
"$build/sttd" --port 0 --quiet --workers 1 --profiles fast --max-connections 1024 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
  [[ -n "$port" ]] && break
  sleep 0.1
done
[[ -n "$port" ]] || { cat "$log" >&2; exit 1; }
url="http://127.0.0.1:$port/health"
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
