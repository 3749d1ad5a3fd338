#!/usr/bin/env bash
# Installs every Debian package sttlab needs to build, test and benchmark.
# Idempotent: when everything is present it prints nothing and changes nothing.
# Usage: scripts/setup.sh [--verbose]     (as root, or with sudo available)
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  # the engine, its model and the real speech the tests and benchmarks use
  libpocketsphinx-dev pocketsphinx pocketsphinx-en-us pocketsphinx-testdata
  # libraries
  libmicrohttpd-dev libjansson-dev libsndfile1-dev libsoxr-dev libgsl-dev
  libcurl4-openssl-dev libxml2-dev
  # test system: coverage, HTML check, sanitizers' and fuzzers' compiler, memcheck,
  # a JUnit consumer that reads our junit.xml back in the tests
  gcovr tidy clang-14 libclang-rt-14-dev valgrind curl python3-junitparser
  # measurement: scoring, charts, metrics lint, reference load tool, load balancer
  sctk gnuplot-nox prometheus wrk haproxy jq iproute2
  # audio tools used to make test fixtures
  sox libsox-fmt-mp3 lame flac vorbis-tools
)

verbose=0
[[ "${1:-}" == "--verbose" ]] && verbose=1
[[ "${1:-}" == "--help" ]] && { sed -n '2,4p' "$0"; exit 0; }

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  [[ $verbose -eq 1 ]] && echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: run as root (missing: ${missing[*]})" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
log=$(mktemp /tmp/sttlab-setup.XXXXXX)
export DEBIAN_FRONTEND=noninteractive
# Services that come with packages (prometheus, haproxy) are not wanted running:
# the project starts what it needs itself.
if ! { $sudo apt-get update -q >"$log" 2>&1 &&
       $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; }; then
  tail -n 30 "$log" >&2
  echo "setup: apt-get failed (full log: $log)" >&2
  exit 1
fi
rm -f "$log"
echo "setup: done"
