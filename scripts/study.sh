#!/usr/bin/env bash
# The study: answers the seed's three questions on this machine.
#   quick (default, under 10 minutes on 2 cores): the test suite, a short audio
#   benchmark, a load sweep, 1 and 2 replicas behind haproxy against the queueing
#   model (as root), a quick CPU profile, then the report.
#   --full: the comprehensive study (every corpus file up to 10 minutes with all
#   profiles, longer load steps, the full CPU grid; one to two hours).
# Results go to OUT (default results/study), the report to OUT/report/.
# Usage: scripts/study.sh [--full] [--out DIR] [--skip-tests]
set -euo pipefail
cd "$(dirname "$0")/.."
full=0 out=results/study skip_tests=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --full) full=1 ;;
    --out) out=$2; shift ;;
    --skip-tests) skip_tests=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "study: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start )) s] $*"; }

step "setup and build"
scripts/setup.sh
scripts/build.sh build
mkdir -p "$out"
[[ -f corpus/manifest.json ]] || build/sttbench corpus --out corpus

if [[ $skip_tests -eq 0 ]]; then
  step "1/5 the test suite (report: $out/tests/test_report.html)"
  scripts/run_all_tests.sh --out "$out/tests" | tail -n 12 || echo "study: some tests failed (see the report)"
fi

step "2/5 audio benchmark: time, memory and WER against length"
if [[ $full -eq 1 ]]; then
  build/sttbench audio --corpus corpus --spawn --max-duration 600 --out "$out/audio"
else
  build/sttbench audio --corpus corpus --spawn --quick --profiles balanced --out "$out/audio"
fi

step "3/5 load sweep: throughput, latency, the knee"
source scripts/sttd_start.sh
sttd_start build
if [[ $full -eq 1 ]]; then
  build/sttbench load --url "$STTD_URL" --file corpus/speech_0008s.wav \
    --concurrency 1,2,4,6 --duration 60 --warmup 5 --out "$out/load"
else
  build/sttbench load --url "$STTD_URL" --file corpus/speech_0008s.wav \
    --concurrency 1,2,4 --duration 15 --warmup 2 --out "$out/load"
fi
sttd_stop

step "4/5 replicas as separate hosts behind haproxy, against the queueing model"
if [[ $full -eq 1 ]]; then
  build/sttbench replicas --requests 400 --out "$out/replicas"
else
  build/sttbench replicas --requests 100 --out "$out/replicas"
fi

step "5/5 CPU profile: cores, threads, quota against pinning, pod shapes"
if [[ $full -eq 1 ]]; then
  build/sttbench cpu --corpus corpus --out "$out/cpu"
else
  build/sttbench cpu --corpus corpus --quick --out "$out/cpu"
fi

step "report"
build/sttbench report --in "$out" --out "$out/report" --k8s-out "$out/report/k8s"
echo
echo "study finished in $(( $(date +%s) - start )) s"
echo "open: $out/report/PERFORMANCE_REPORT.html  (and SCALING_STRATEGY.md, k8s/)"
