#!/bin/sh
# Audio benchmark of sttd on the real-speech corpus: every profile, files up to
# 600 s (longer ones are listed as skipped, with the reason) and the clip set,
# 5 interleaved rounds (every figure with n, median and 95% interval), report in
# results/audio/ (docs/AUDIO_BENCH.md).
# Usage: scripts/benchmark_all_audio.sh [extra `sttbench audio` options, e.g. --repeat 8]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-build}
scripts/build.sh "$build"
if [ ! -f corpus/manifest.json ] || [ ! -f corpus/clips/manifest.json ]; then
    "$build/sttbench" corpus --out corpus
fi
mkdir -p results/audio
"$build/sttbench" audio --corpus corpus --spawn --port "${PORT:-18090}" \
    --profiles "${PROFILES:-fast,balanced,accurate}" --max-duration 600 \
    --out results/audio "$@" | tee results/audio/audio_summary.txt
echo
echo "Skipped files (and why):"
grep '^skipped ' results/audio/audio_summary.txt || echo "  none"
echo "Report: results/audio/audio_report.md (charts: results/audio/*.png, *.svg)"
