#!/usr/bin/env bash
# CPU characteristics profile: cores x threads grid under proven restrictions,
# scaling-law fits, pod shapes. Builds if needed, builds the corpus into corpus/
# if missing, writes results/cpu/ (cpu.json, cpu_scaling_report.md, charts).
# Usage: scripts/profile_cpu_scaling.sh [--quick] [any `sttbench cpu` option...]
# (see `build/sttbench cpu --help` and docs/CPU.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
if [ ! -f corpus/manifest.json ]; then
  build/sttbench corpus --out corpus
fi
out=results/cpu
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--out" ] && out=${args[$((i + 1))]:-$out}
done
mkdir -p "$out"
start=$(date +%s)
build/sttbench cpu --corpus corpus --out "$out" "$@"
echo "profile_cpu_scaling: done in $(( $(date +%s) - start )) s; report: $out/cpu_scaling_report.md"
