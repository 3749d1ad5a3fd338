#!/usr/bin/env bash
# CPU characteristics profile (docs/CPU.md): throughput and one long request
# against cores under proven restrictions, a CFS quota against pinned cores,
# many weak cores against few strong ones at equal capacity, threads per
# request searched beyond the cores; every configuration measured in
# interleaved rounds, every figure with its interval. Builds if needed, builds
# the corpus into corpus/ if missing, writes results/cpu/ (cpu.json,
# cpu_scaling_report.md, charts). Needs root for the cgroup parts (quota, weak
# cores); without it they are skipped and said so.
#   --quick: about 3.5 minutes on a quiet 2-core machine (wider intervals);
#   default: the full profile (about 30 minutes on 2 cores, longer on more).
# Usage: scripts/profile_cpu_scaling.sh [--quick] [any `sttbench cpu` option...]
# (see `build/sttbench cpu --help`).
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
