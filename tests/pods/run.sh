#!/usr/bin/env bash
# The pod tier, as `make test-pods` (and `make test`) runs it: two real nodes, the images built here, helm install,
# the seed scenario through real proxy pods behind the load balancer (scripts/demo-cluster.sh, which fails on any
# broken step), then every fault under load (tests/pods/faults.sh). Takes everything down afterwards, also on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "the pod tier needs root (bridges, iptables, containerd)" >&2; exit 1; }
started=$(date +%s)
diagnose() {
  echo "[pods] failed; what the cluster looked like:" >&2
  eval "$(tests/cluster/cluster.sh env)"
  kubectl get nodes,pods -A -o wide >&2 || true
  kubectl get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -n 40 >&2 || true
  kubectl -n xks-system logs -l app.kubernetes.io/name=xks-operator --tail=40 --prefix >&2 || true
  kubectl -n xks-demo logs -l xks.dev/vault=xks --tail=20 --prefix >&2 || true
  for f in .data/cluster/logs/kubelet-1.log .data/cluster/logs/kubelet-2.log .data/demo-cluster/kms-emulator.log .data/demo-cluster/load-balancer.log; do
    [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 25 "$f" >&2; }
  done
}
trap 'rc=$?; [ "$rc" = 0 ] || diagnose; scripts/demo-cluster.sh stop >/dev/null 2>&1 || tests/cluster/cluster.sh down' EXIT
scripts/demo-cluster.sh run
tests/pods/faults.sh "$@"
echo "[pods] pod tier passed in $(( $(date +%s) - started )) s"
