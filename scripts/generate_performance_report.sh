#!/bin/sh
# Regenerates docs/PERFORMANCE_REPORT.{md,html}, docs/SCALING_STRATEGY.md and
# deploy/k8s/*.yaml from the committed results: every docs/results/<machine>/
# (one machine per folder). Extra arguments go to `sttbench report`
# (e.g. --slo-p95 30 --price-core-hour 0.05). See docs/REPORT.md.
# To build a report from this machine's own fresh results, use scripts/study.sh.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
if [ ! -x "$BUILD/sttbench" ]; then
    scripts/build.sh "$BUILD"
fi
for d in docs/results/*/; do
    [ -d "$d" ] && set -- --in "${d%/}" "$@"
done
exec "$BUILD/sttbench" report "$@" --out docs --k8s-out deploy/k8s
