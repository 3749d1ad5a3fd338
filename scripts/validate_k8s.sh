#!/bin/sh
# Validates the generated Kubernetes objects (default deploy/k8s): Deployment,
# Service, HPA and PodDisruptionBudget against npm kubernetes-models, the KEDA
# ScaledObject against KEDA's CRD schema (@kubernetes-models/keda), unknown
# fields refused as kubectl's strict validation does, and the Grafana
# dashboard by structure and metric names. The validator's packages are
# pinned in scripts/validate_k8s/package-lock.json and installed on first use
# (npm ci: needs the npm registry once). Needs node >= 14 and npm.
# Usage: scripts/validate_k8s.sh [DIR]
set -eu
cd "$(dirname "$0")/.."
dir=${1:-deploy/k8s}
v=scripts/validate_k8s
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "validate_k8s: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
    exit 2
fi
if [ ! -d "$v/node_modules" ]; then
    npm ci --prefix "$v" --no-audit --no-fund --loglevel=error >/dev/null
fi
exec node "$v/validate.mjs" "$dir"
