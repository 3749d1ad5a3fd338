#!/bin/sh
# sttd against the raw engine on this machine: overhead, accuracy per profile,
# memory per worker, one request on two cores, throughput and fairness, each
# in 5 rounds with sttd and its baseline alternating, and a verdict (PASS, FAIL
# or undetermined) from the 95% interval (docs/SERVICE_BENCH.md). Results in
# results/service/.
# Usage: scripts/benchmark_service.sh [extra `sttbench service` options, e.g. --quick]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-build}
scripts/build.sh "$build"
if [ ! -f corpus/manifest.json ]; then
    "$build/sttbench" corpus --out corpus
fi
mkdir -p results/service
# Exit status 1 when a target fails; the table is printed either way.
status=0
"$build/sttbench" service --corpus corpus --out results/service "$@" \
    >results/service/service_summary.txt || status=$?
cat results/service/service_summary.txt
exit "$status"
