#!/usr/bin/env bash
# sttd under load on this machine: a closed-loop concurrency sweep (the knee,
# --workers/--queue advice) into results/load/, and the highest open-loop rate
# that keeps p95 under the objective into results/load/maxrate/.
# Usage: scripts/benchmark_load.sh [--slo-p95 SECONDS] [--duration S]
# Environment: BUILD_DIR (build), FILE (corpus/speech_0008s.wav).
set -euo pipefail
cd "$(dirname "$0")/.."
slo=5 duration=30
while [[ $# -gt 0 ]]; do
  case "$1" in
    --slo-p95) slo=$2; shift ;;
    --duration) duration=$2; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "benchmark_load: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
build=${BUILD_DIR:-build}
scripts/build.sh "$build"
[[ -f corpus/manifest.json ]] || "$build/sttbench" corpus --out corpus
file=${FILE:-corpus/speech_0008s.wav}
source scripts/sttd_start.sh
sttd_start "$build"
url=$STTD_URL
log=$STTD_LOG
echo "== sttd: $(head -n 1 "$log")"
rm -rf results/load
# Up to the admission capacity (workers + queue): beyond it every extra client
# gets an immediate 503, and a closed loop that retries at once only measures
# how fast the server can refuse (and steals the decoders' CPU doing it).
cap=$(sed -n 's/.*(workers \([0-9]*\), threads [0-9]*, queue \([0-9]*\)).*/\1 \2/p' "$log" | awk '{print $1 + $2}')
w=$(sed -n 's/.*(workers \([0-9]*\),.*/\1/p' "$log")
levels=$(printf '%s\n' 1 "$w" $((w * 2)) "$cap" | awk '$1 <= '"$cap"'' | sort -n | uniq | paste -sd,)
echo "== closed-loop sweep, $file, ${duration} s per step, concurrency $levels (capacity $cap)"
"$build/sttbench" load --url "$url" --file "$file" --concurrency "$levels" \
  --duration "$duration" --warmup 3 --out results/load
echo "== highest rate with p95 <= ${slo} s"
# Its results are named maxrate.json so that the report reads the sweep as load.json.
"$build/sttbench" load --url "$url" --file "$file" --find-max-rate --slo "p95=$slo" \
  --out results/load/maxrate
mv results/load/maxrate/load.json results/load/maxrate/maxrate.json
sttd_stop
