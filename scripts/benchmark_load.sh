#!/usr/bin/env bash
# sttd under load on this machine, into results/load/load.json (what
# `sttbench report` reads): a closed-loop concurrency sweep (the knee, the
# --workers/--queue advice, the service time at one request in flight), then
# the highest open-loop rate whose p95 stays under the objective, with
# Poisson arrivals (or a recorded trace), each probe repeated and passed only
# when its p95 interval lies under the objective and failures stay within
# the error budget. The queueing model is checked against the probes.
# Usage: scripts/benchmark_load.sh [--slo-p95 SECONDS] [--duration S] [--repeats N]
#        [--error-budget F] [--min-requests N] [--max-probes N] [--trace FILE]
# Environment: BUILD_DIR (build), FILE (corpus/speech_0008s.wav).
# Time: the sweep about levels x repeats x (duration + warm-up), longer where a
# run is unstable and measured again (up to 7x); each probe 3 x min-requests
# requests at its rate. With the defaults on a 2-core VM, about 20 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
slo=5 duration=30 repeats=1 budget=1% minreq=60 probes=8 trace=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --slo-p95) slo=$2; shift ;;
    --duration) duration=$2; shift ;;
    --repeats) repeats=$2; shift ;;
    --error-budget) budget=$2; shift ;;
    --min-requests) minreq=$2; shift ;;
    --max-probes) probes=$2; shift ;;
    --trace) trace=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
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
echo "== closed-loop sweep, $file, ${duration} s per run, concurrency $levels (capacity $cap),"
echo "   then the highest rate with p95 <= ${slo} s (error budget $budget)"
# A trace sets the arrivals, so it cannot drive the closed-loop sweep: with
# --trace only the max-rate search runs, its probes replaying the trace.
sweep=(--concurrency "$levels") extra=()
[[ -n "$trace" ]] && { sweep=(); extra=(--trace "$trace"); echo "   (--trace: the closed-loop sweep is left out)"; }
"$build/sttbench" load --url "$url" --file "$file" "${sweep[@]}" \
  --duration "$duration" --warmup 3 --repeats "$repeats" \
  --find-max-rate --slo "p95=$slo" --error-budget "$budget" --min-requests "$minreq" \
  --max-probes "$probes" "${extra[@]}" --out results/load
sttd_stop
echo "== results/load/load.json: steps, knee, advice, service_time_s, max_rate, model_check"
