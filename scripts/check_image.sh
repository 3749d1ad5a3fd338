#!/bin/sh
# Shows the container image serving: builds it if needed (reusing every cached
# step), runs it with buildah, transcribes the LibriVox clips through it over
# HTTP, checks /health, /metrics, a clean SIGTERM stop and that it carries only
# the service's libraries. A benchmark-style check, not a timed test; PASS/FAIL
# and exit status 0/1 (docs/DEPLOY.md, "The container image").
# Usage: scripts/check_image.sh [scripts/build_image.sh options, e.g. --check-only]
exec "$(dirname "$0")/build_image.sh" --check "$@"
