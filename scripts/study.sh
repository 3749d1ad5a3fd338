#!/usr/bin/env bash
# The study: answers the seed's three questions on this machine.
#   quick (default, under 10 minutes on 2 cores with the packages installed):
#   the unit tests (the fast subset; the whole suite is scripts/run_all_tests.sh),
#   a short audio benchmark, a short load sweep (profile fast), the quick CPU
#   profile (profile fast: cores, weak against strong at equal capacity), then the report; the
#   scale-up-or-out answer then rests on the CPU profile and the model.
#   --full: the comprehensive study (every test with coverage, files up to 1
#   minute with all profiles, a longer load sweep and the max-rate search, the
#   CPU profile with the quota and the thread search at the largest core count,
#   the pod shapes with their memory limit (as root), replicas behind haproxy
#   against the planner at three utilisations (as root), the service benchmark;
#   well over an hour on 2 cores).
# A step that fails is reported and the study goes on; the exit status is 1 when
# any step failed. Results go to OUT (default results/study), the report to
# OUT/report/. Each step prints the time it took; the last lines sum them up.
# Usage: scripts/study.sh [--full] [--out DIR] [--skip LIST] [--skip-tests]
#   --skip LIST: leave out these steps (tests,audio,load,cpu,shapes,replicas,service);
#   --skip-tests is --skip tests.
set -uo pipefail
cd "$(dirname "$0")/.."
full=0 out=results/study skip=,
while [[ $# -gt 0 ]]; do
  case "$1" in
    --full) full=1 ;;
    --out) [[ $# -ge 2 ]] || { echo "study: --out needs a value" >&2; exit 2; }; out=$2; shift ;;
    --skip-tests) skip+=tests, ;;
    --skip) [[ $# -ge 2 ]] || { echo "study: --skip needs a value" >&2; exit 2; }; skip+=$2, ; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "study: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
start=$(date +%s)
failed=() times=()
# step NAME COMMAND...: runs one step (unless --skip names COMMAND), times it,
# notes a failure and goes on.
step() {
  local name=$1 t0 rc
  shift
  [[ $skip == *",$1,"* ]] && { echo; echo "== $name: skipped (--skip)"; return 0; }
  t0=$(date +%s)
  echo
  echo "== [$((t0 - start)) s] $name"
  "$@"
  rc=$?
  times+=("$(printf '%-34s %4d s' "$name" $(($(date +%s) - t0)))")
  if [[ $rc -ne 0 ]]; then
    failed+=("$name")
    echo "study: step '$name' failed (exit $rc); going on"
  fi
}

scripts/setup.sh || exit 1
step "build" scripts/build.sh build || exit 1
[[ -x build/sttbench ]] || { echo "study: the build failed" >&2; exit 1; }
mkdir -p "$out"
if [[ ! -f corpus/manifest.json || ! -f corpus/clips/manifest.json ]]; then
  step "corpus" build/sttbench corpus --out corpus
fi
if [[ $full -eq 1 ]]; then mode=full; else mode=quick; fi

tests() {
  if [[ $full -eq 1 ]]; then
    scripts/run_all_tests.sh --out "$out/tests" | tail -n 12
  else
    scripts/run_all_tests.sh --label unit --no-coverage --out "$out/tests" | tail -n 6
  fi
}

audio() {
  if [[ $full -eq 1 ]]; then
    build/sttbench audio --corpus corpus --spawn --max-duration 65 --out "$out/audio"
  else
    build/sttbench audio --corpus corpus --spawn --quick --profiles balanced --out "$out/audio"
  fi
}

load() {
  local rc
  source scripts/sttd_start.sh
  sttd_start build || return 1
  if [[ $full -eq 1 ]]; then
    build/sttbench load --url "$STTD_URL" --file corpus/speech_0008s.wav \
      --concurrency 1,2,4 --duration 60 --warmup 3 --repeats 3 --max-extend 1 \
      --find-max-rate --slo p95=3 --min-requests 30 --max-probes 4 --out "$out/load"
  else
    build/sttbench load --url "$STTD_URL" --file corpus/speech_0008s.wav \
      --model fast --concurrency 1,2 --requests 32 --warmup 1 --repeats 3 --max-extend 0 \
      --out "$out/load"
  fi
  rc=$?
  sttd_stop
  return $rc
}

cpu() {
  if [[ $full -eq 1 ]]; then
    build/sttbench cpu --corpus corpus --quota largest --thread-search largest --rounds 5 --extra-rounds 1 --out "$out/cpu"
  else
    build/sttbench cpu --corpus corpus --quick --out "$out/cpu"
  fi
}

shapes() {
  build/sttbench shapes --slo-p95 3 --out "$out/shapes"
}

replicas() {
  build/sttbench replicas --quick --audio "$out/audio/audio.json" --out "$out/replicas"
}

service() {
  build/sttbench service --quick --out "$out/service"
}

report() {
  build/sttbench report --in "$out" --out "$out/report" --k8s-out "$out/report/k8s" || return 1
  if command -v node >/dev/null && command -v npm >/dev/null; then
    scripts/validate_k8s.sh "$out/report/k8s" || return 1
  else
    echo "study: node and npm are not installed; the manifests were not validated"
  fi
}

step "tests ($mode; $out/tests)" tests
step "audio: time, memory, WER by length" audio
step "load: throughput, latency, knee" load
step "cpu: cores, weak against strong" cpu
if [[ $full -eq 1 ]]; then
  step "shapes: k pods of C/k cores" shapes
  step "replicas: per-pod routing vs model" replicas
  step "service: workers and threads" service
fi
step "report" report

echo
echo "study ($mode) finished in $(($(date +%s) - start)) s; where the time went:"
printf '  %s\n' "${times[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "study: failed steps: ${failed[*]}"
fi
echo "open: $out/report/PERFORMANCE_REPORT.html  (and SCALING_STRATEGY.md, k8s/)"
[[ ${#failed[@]} -eq 0 ]]
