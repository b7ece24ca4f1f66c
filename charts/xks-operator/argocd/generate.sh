#!/usr/bin/env bash
# Writes health-<kind>.lua for the five xks.dev kinds from health.lua.tmpl: the same logic, each kind with its own list
# of Ready=False reasons that mean "converging" (Progressing) rather than "broken" (Degraded). Argo CD's argocd-cm
# cannot share code between health checks, so each script is self-contained.
#   generate.sh           rewrite the scripts
#   generate.sh --check   exit 1 when a committed script differs from what the template makes
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# Ready=False reasons per kind that mean "still converging" (the operator's condition reasons, see the chart README).
declare -A CONVERGING=(
  [Vault]="ProxyUnavailable CertificatePending"
  [CspAccount]="Throttled EndpointUnreachable"
  [ClusterCspAccount]="Throttled EndpointUnreachable"
  [KeySet]="WaitingForVault WaitingForCspAccount Creating Connecting Disconnecting Throttled EndpointUnreachable Deleting"
  [CloudKey]="WaitingForKeySet WaitingForVault WaitingForCspAccount Creating Disabling Throttled EndpointUnreachable PendingDeletion Deleting"
)

render() { # $1 = kind
  local reasons="" r
  for r in ${CONVERGING[$1]}; do reasons+="  ${r} = true,"$'\n'; done
  awk -v kind="$1" -v reasons="${reasons%$'\n'}" '
    $0 == "@REASONS@" { print reasons; next }
    { gsub(/@KIND@/, kind); print }' health.lua.tmpl
}

status=0
for kind in Vault CspAccount ClusterCspAccount KeySet CloudKey; do
  file="health-$(tr '[:upper:]' '[:lower:]' <<<"$kind").lua"
  if [ "${1:-}" = --check ]; then
    if ! render "$kind" | cmp -s - "$file"; then echo "$file is stale: run charts/xks-operator/argocd/generate.sh" >&2; status=1; fi
  else
    render "$kind" > "$file"
  fi
done
exit "$status"
