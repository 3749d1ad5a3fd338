#!/bin/sh
# Regenerates docs/PERFORMANCE_REPORT.{md,html}, docs/SCALING_STRATEGY.md and
# deploy/k8s/*.yaml from the results files: results/ (this machine) and every
# docs/results/<machine>/ (others). Extra arguments go to `sttbench report`
# (e.g. --slo-p95 30 --price-core-hour 0.05). See docs/REPORT.md.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
if [ ! -x "$BUILD/sttbench" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target sttbench >/dev/null
fi
set -- --in results "$@"
[ -d test_reports ] && set -- "$@" --in test_reports
for d in docs/results/*/; do
    [ -d "$d" ] && set -- "$@" --in "${d%/}"
done
mkdir -p results
exec "$BUILD/sttbench" report "$@" --out docs --k8s-out deploy/k8s
