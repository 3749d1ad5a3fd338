#!/usr/bin/env bash
# Is the load generator what we measure? sttbench load and wrk (Debian's wrk),
# one generator thread each, against the same endpoint (sttd's GET /health) at
# the same fixed concurrency, alternating, ROUNDS times per level. sttd runs on
# CPU 0 and both generators on CPU 1 (on a machine with two CPUs or more), so
# that neither generator takes CPU from the server.
#
# Compared: wrk's p50 and p99 (from the first byte of the request written to the
# last byte of the response read) with sttbench's "uncorrected" latency, which
# is measured between the same two moments. Per level, the median of the rounds.
# A level where sttbench's generator thread was busy >= 90% of the time is
# reported as generator-bound: there the two tools drive the server at different
# rates, and their latencies are not expected to agree.
#
# Usage: scripts/compare_with_wrk.sh [LEVELS] [SECONDS] [ROUNDS]   (default 1,2,8 5 3)
# Writes results/wrk/compare.tsv; exit status 1 when a level that is not
# generator-bound differs by more than 10% on p50 or p99.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "${1:-}" == "--help" ]] && { sed -n '2,17p' "$0"; exit 0; }
levels=${1:-1,2,8} secs=${2:-5} rounds=${3:-3}
build=${BUILD_DIR:-build}
out=results/wrk
scripts/build.sh "$build"
mkdir -p "$out"
tmp=$(mktemp -d)
source scripts/sttd_start.sh
sttd_start "$build" --workers 1 --profiles fast --max-connections 1024
trap 'kill $STTD_PID 2>/dev/null || true; rm -rf "$tmp" "$STTD_LOG"' EXIT
gen=()
if (($(nproc) >= 2)); then
  taskset -a -pc 0 "$STTD_PID" >/dev/null
  gen=(taskset -c 1)
  echo "sttd on CPU 0, generators on CPU 1"
fi
url="$STTD_URL/health"

# wrk prints "50%  61.00us": to milliseconds.
wrk_ms() {
  awk -v p="$1" '$1==p {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
    f = u=="us" ? 0.001 : u=="ms" ? 1 : u=="s" ? 1000 : 60000; printf "%.4f", v*f}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf 'level\tround\ttool\treq_per_s\tp50_ms\tp99_ms\tgenerator_cpu\n' >"$out/compare.tsv"
for c in ${levels//,/ }; do
  for r in $(seq 1 "$rounds"); do
    w=$("${gen[@]}" wrk -t1 -c"$c" -d"${secs}s" --latency "$url")
    printf '%s\t%s\twrk\t%s\t%s\t%s\t-\n' "$c" "$r" "$(awk '/^Requests\/sec/ {print $2}' <<<"$w")" \
      "$(wrk_ms 50% <<<"$w")" "$(wrk_ms 99% <<<"$w")" >>"$out/compare.tsv"
    # One run of the same length as wrk's (no lengthening of unstable runs):
    # the comparison, not the stability rule, is the point here.
    "${gen[@]}" "$build/sttbench" load --url "$url" --method GET --concurrency "$c" \
      --duration "$secs" --warmup 1 --max-extend 0 --out "$tmp" >/dev/null 2>&1
    jq -r --arg c "$c" --arg r "$r" '.steps[0] | [$c, $r, "sttbench", .runs[0].throughput_rps,
        .latency_uncorrected_s.p50 * 1000, .latency_uncorrected_s.p99 * 1000,
        .runs[0].generator.busiest_thread_cpu] | @tsv' "$tmp/load.json" >>"$out/compare.tsv"
  done
done

# Per level: medians of the rounds and the verdict.
fail=0
printf '\n%-6s %-9s %10s %9s %9s %8s  %s\n' level tool req/s p50_ms p99_ms gen_cpu verdict
for c in ${levels//,/ }; do
  col() { awk -F'\t' -v c="$c" -v t="$1" -v k="$2" '$1==c && $3==t {print $k}' "$out/compare.tsv" | median; }
  for t in wrk sttbench; do
    eval "${t}_rps=$(col $t 4) ${t}_p50=$(col $t 5) ${t}_p99=$(col $t 6)"
  done
  gcpu=$(col sttbench 7)
  verdict=$(awk -v a="$sttbench_p50" -v b="$wrk_p50" -v x="$sttbench_p99" -v y="$wrk_p99" \
    -v g="$gcpu" -v r="$sttbench_rps" -v q="$wrk_rps" '
    BEGIN { d50 = (a-b)/b*100; d99 = (x-y)/y*100; dr = (r-q)/q*100;
      v = (d50 <= 10 && d50 >= -10 && d99 <= 10 && d99 >= -10) ? "AGREE" : "DIFFER";
      if (g >= 0.9) v = "generator-bound";
      printf "%s (p50 %+.0f%%, p99 %+.0f%%; req/s %+.0f%%)", v, d50, d99, dr }')
  printf '%-6s %-9s %10.0f %9.4f %9.4f %8s\n' "$c" wrk "$wrk_rps" "$wrk_p50" "$wrk_p99" -
  printf '%-6s %-9s %10.0f %9.4f %9.4f %7.0f%%  %s\n' "$c" sttbench "$sttbench_rps" "$sttbench_p50" \
    "$sttbench_p99" "$(awk -v g="$gcpu" 'BEGIN {print g*100}')" "$verdict"
  [[ "$verdict" == DIFFER* ]] && fail=1
done
echo "rounds in $out/compare.tsv"
exit $fail
