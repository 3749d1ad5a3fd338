#!/usr/bin/env bash
# Configures and builds sttlab (Release with debug info) into build/ unless it is
# up to date. Usage: scripts/build.sh [BUILD_DIR] [extra cmake -D options...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
log="$dir.log"
if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$log" 2>&1 &&
       cmake --build "$dir" -j "$(nproc)" >>"$log" 2>&1; }; then
  tail -n 40 "$log" >&2
  echo "build: failed (full log: $log)" >&2
  exit 1
fi
