#!/usr/bin/env bash
# Copies the generated CRDs (config/crd/bases/*.yaml, the single source of truth) into the Helm chart
# (charts/xks-operator/files/crds/), where templates/crds.yaml renders them with the chart's labels and the
# helm.sh/resource-policy=keep annotation. The copies are byte-for-byte; a test fails when they differ.
#
#   scripts/sync-chart-crds.sh           copy (and remove chart CRDs that no longer exist in config/crd/bases)
#   scripts/sync-chart-crds.sh --check   exit 1 and list the differences when the chart is out of date
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/config/crd/bases"
DST="$ROOT/charts/xks-operator/files/crds"

shopt -s nullglob
sources=("$SRC"/*.yaml)
[ "${#sources[@]}" -gt 0 ] || { echo "sync-chart-crds: no CRDs in $SRC (run the generator first)" >&2; exit 1; }

if [ "${1:-}" = "--check" ]; then
  stale=0
  for f in "${sources[@]}"; do
    if ! cmp -s "$f" "$DST/$(basename "$f")"; then echo "out of date: charts/xks-operator/files/crds/$(basename "$f")"; stale=1; fi
  done
  for f in "$DST"/*.yaml; do
    [ -f "$SRC/$(basename "$f")" ] || { echo "not in config/crd/bases: charts/xks-operator/files/crds/$(basename "$f")"; stale=1; }
  done
  [ "$stale" = 0 ] || { echo "run scripts/sync-chart-crds.sh (make manifests)" >&2; exit 1; }
  exit 0
fi

mkdir -p "$DST"
for f in "$DST"/*.yaml; do
  [ -f "$SRC/$(basename "$f")" ] || { rm -f "$f"; echo "removed charts/xks-operator/files/crds/$(basename "$f")"; }
done
for f in "${sources[@]}"; do
  cmp -s "$f" "$DST/$(basename "$f")" || { cp "$f" "$DST/"; echo "updated charts/xks-operator/files/crds/$(basename "$f")"; }
done
