#!/usr/bin/env bash
# The pod tier's fault suite: a steady GenerateDataKey + Decrypt load through the KMS emulator (which calls the proxy
# pods through the load balancer) while pods, nodes and the operator fail. Runs after scripts/demo-cluster.sh (whose
# cluster, emulator and LB it uses). Every figure is read from the load's own summary, kubectl and the pods; the table
# goes to stdout and to artifacts/pod-tier/faults.md. Exits non-zero when a scenario breaks its bound.
#
#   tests/pods/faults.sh [SCENARIO…]    scenarios: pod-delete drain rolling-update sigkill node-stop operator-leader
#                                       (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
eval "$(scripts/demo-cluster.sh env)"

RATE=${FAULT_RATE:-110}                # pairs per second: 2 × RATE requests per second (≥ 200)
OUT=$ROOT/artifacts/pod-tier
mkdir -p "$OUT"
TABLE=$OUT/faults.md
# The default set, what `make test` gates on, is every scenario.
SCENARIOS=("$@"); [ "${#SCENARIOS[@]}" -gt 0 ] || SCENARIOS=(pod-delete drain rolling-update sigkill node-stop operator-leader)
failures=0

log() { printf '\n\033[1m[faults] %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
k() { kubectl -n "$NS" "$@"; }
proxy_pods() { k get pods -l xks.dev/vault=xks -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.spec.nodeName}{" "}{.status.phase}{"\n"}{end}'; }
ready_proxies() { k get deployment xks-proxy -o jsonpath='{.status.readyReplicas}'; }
node_number() { echo "${1##*-}"; }
node_socket() { echo "$ROOT/.data/cluster/nodes/$1/containerd.sock"; }

# Polls cost CPU the pods under test need (this machine has two cores): one kubectl call per poll, twice a second.
POLL=0.5

# True when the proxy Deployment is rolled out (what `kubectl rollout status` checks, minReadySeconds included) and
# two of its pods are Ready and not terminating.
two_ready() {
  kubectl -n "$NS" get deployment,pods -l xks.dev/vault=xks -o json 2>/dev/null | jq -e '
    ([.items[] | select(.kind == "Deployment")][0]) as $d
    | ($d.status.observedGeneration >= $d.metadata.generation)
      and ($d.status.updatedReplicas // 0) == $d.spec.replicas and ($d.status.replicas // 0) == $d.spec.replicas
      and ($d.status.availableReplicas // 0) == $d.spec.replicas
      and ([.items[] | select(.kind == "Pod") | select(.metadata.deletionTimestamp == null)
            | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length) >= 2' >/dev/null
}

# Waits until two_ready; prints the wait in ms.
wait_two_ready() { # $1 = timeout seconds
  local t0; t0=$(now_ms)
  while [ $(( $(now_ms) - t0 )) -lt $(( $1 * 1000 )) ]; do
    two_ready && { echo $(( $(now_ms) - t0 )); return 0; }
    sleep "$POLL"
  done
  return 1
}

# A Ready proxy pod that is not terminating (name, or "name node" with $1 = node).
pick_proxy() {
  k get pods -l xks.dev/vault=xks -o json | jq -r --arg with "${1:-}" '[.items[] | select(.metadata.deletionTimestamp == null)
    | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))][0]
    | if $with == "node" then .spec.nodeName else .metadata.name end'
}

# Each scenario starts from two Ready replicas and no pod of an earlier one still terminating.
settle() {
  wait_two_ready 120 >/dev/null || { proxy_pods; echo "the proxy Deployment is not at 2 ready replicas" >&2; exit 1; }
  for _ in $(seq 120); do
    [ "$(k get pods -l xks.dev/vault=xks -o json | jq '[.items[] | select(.metadata.deletionTimestamp != null)] | length')" = 0 ] && return 0
    sleep "$POLL"
  done
}

LOAD_PID=""
load_start() { # $1 = name, $2 = max seconds
  LOAD_NAME=$1
  rm -f "$OUT/$1.stop" "$OUT/$1.json"
  env $(cat "$DEMO/application.env") dotnet "$CLIENT_DLL" load --endpoint "$KMS_ENDPOINT" --region "$REGION" \
    --key-id alias/payments/db --rate "$RATE" --seconds "$2" --max-in-flight 64 \
    --out "$OUT/$1.json" --stop-file "$OUT/$1.stop" > "$OUT/$1.load.log" 2>&1 &
  LOAD_PID=$!
  LOAD_T0=$(now_ms)
  sleep 5   # a steady state before the fault
  local line; line=$(tail -n1 "$OUT/$1.load.log")
  info "load running: $line"
}

load_stop() {
  touch "$OUT/$LOAD_NAME.stop"
  wait "$LOAD_PID" || { cat "$OUT/$LOAD_NAME.load.log"; echo "the load generator failed" >&2; exit 1; }
  LOAD_PID=""
  REQUESTS=$(jq .requests "$OUT/$LOAD_NAME.json")
  FAILED=$(jq .failed "$OUT/$LOAD_NAME.json")
  RPS=$(jq .requestsPerSecond "$OUT/$LOAD_NAME.json")
  MAX_IN_FLIGHT=$(jq .maxPairsInFlight "$OUT/$LOAD_NAME.json")
  info "load: $REQUESTS requests at $RPS/s, $FAILED failed (at most $MAX_IN_FLIGHT in flight)"
  [ "$FAILED" = 0 ] || jq -r '.failures[:5][] | "      failure at \(.atMilliseconds) ms: \(.operation) \(.error): \(.message)"' "$OUT/$LOAD_NAME.json"
}

row() { # scenario, bound, recovery text, ok?
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$REQUESTS" "$FAILED" "$2" "$3" "$4" >> "$TABLE"
  [ "$4" = pass ] || failures=$((failures + 1))
}

# Kills one container hard, as the OOM killer or a crash would: SIGKILL through the node's own containerd.
kill_container() { # $1 = pod (namespace $2), container index 0
  local pod=$1 ns=$2 node id
  node=$(kubectl -n "$ns" get pod "$pod" -o jsonpath='{.spec.nodeName}')
  id=$(kubectl -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].containerID}'); id=${id#containerd://}
  ctr -a "$(node_socket "$node")" -n k8s.io tasks kill -s SIGKILL "$id"
}

trap '[ -z "$LOAD_PID" ] || touch "$OUT/$LOAD_NAME.stop"' EXIT
printf '| scenario | requests sent | failed | bound | time to recover | result |\n|---|---|---|---|---|---|\n' > "$TABLE"
wait_two_ready 120 >/dev/null || { proxy_pods; echo "the proxy Deployment is not at 2 ready replicas" >&2; exit 1; }

for scenario in "${SCENARIOS[@]}"; do
  settle
  case "$scenario" in
    pod-delete)
      log "A proxy pod is deleted (graceful: /readyz 503, drain, in-flight requests finish) under load"
      load_start pod-delete 120
      victim=$(pick_proxy)
      t0=$(now_ms)
      k delete pod "$victim" --wait=false >/dev/null
      info "deleted $victim"
      k wait --for=delete "pod/$victim" --timeout=90s >/dev/null
      gone=$(( $(now_ms) - t0 ))
      back=$(wait_two_ready 120)
      sleep 3
      load_stop
      proxy_pods | sed 's/^/    /'
      ok=pass; [ "$FAILED" = 0 ] || ok=FAIL
      row "proxy pod deleted" "0 failed" "old pod gone after $((gone / 1000)) s; 2 replicas Ready after $(( (gone + back) / 1000 )) s" "$ok" ;;

    drain)
      log "kubectl drain of the node of a proxy pod (evictions respect the PDB) under load"
      node=$(pick_proxy node)
      load_start drain 240
      t0=$(now_ms)
      kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout=180s 2>&1 | tail -n 3 | sed 's/^/    /'
      back=$(wait_two_ready 120)
      took=$(( $(now_ms) - t0 ))
      sleep 3
      load_stop
      proxy_pods | sed 's/^/    /'
      kubectl uncordon "$node" >/dev/null
      ok=pass; [ "$FAILED" = 0 ] || ok=FAIL
      row "kubectl drain $node" "0 failed" "drained, 2 replicas Ready elsewhere after $((took / 1000)) s" "$ok" ;;

    rolling-update)
      log "A Vault change rolls the proxy Deployment (maxUnavailable 0) under load"
      load_start rolling-update 240
      generation=$(k get deployment xks-proxy -o jsonpath='{.metadata.generation}')
      t0=$(now_ms)
      k patch vault xks --type merge -p "{\"spec\":{\"proxy\":{\"podAnnotations\":{\"example.com/rolled-at\":\"$(date +%s)\"}}}}" >/dev/null
      for _ in $(seq 60); do [ "$(k get deployment xks-proxy -o jsonpath='{.metadata.generation}')" != "$generation" ] && break; sleep "$POLL"; done
      k rollout status deployment/xks-proxy --timeout=180s >/dev/null
      back=$(wait_two_ready 120)
      took=$(( $(now_ms) - t0 ))
      sleep 3
      load_stop
      proxy_pods | sed 's/^/    /'
      nodes=$(k get pods -l xks.dev/vault=xks -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | wc -l)
      info "after the roll the proxy pods are on $nodes node(s)"
      ok=pass; [ "$FAILED" = 0 ] || ok=FAIL
      row "Vault change rolls the Deployment" "0 failed" "rolled out in $((took / 1000)) s" "$ok" ;;

    sigkill)
      log "A proxy container is SIGKILLed under load"
      load_start sigkill 120
      victim=$(pick_proxy)
      restarts=$(k get pod "$victim" -o jsonpath='{.status.containerStatuses[0].restartCount}')
      t0=$(now_ms)
      kill_container "$victim" "$NS"
      info "SIGKILL to the proxy container of $victim"
      for _ in $(seq 240); do
        read -r count ready < <(k get pod "$victim" -o jsonpath='{.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}{"\n"}') || true
        [ "$count" -gt "$restarts" ] && [ "$ready" = true ] && break
        sleep "$POLL"
      done
      took=$(( $(now_ms) - t0 ))
      sleep 3
      load_stop
      ok=pass; [ "$FAILED" -le "$MAX_IN_FLIGHT" ] || ok=FAIL
      row "proxy container SIGKILLed" "≤ $MAX_IN_FLIGHT in flight" "restarted and Ready after $((took / 1000)) s" "$ok" ;;

    node-stop)
      log "A whole node stops (kubelet, containerd and its containers) under load"
      # The spread is ScheduleAnyway (so a drain never blocks), and a roll after a drain can leave both replicas on one
      # node; deleting one re-spreads them (what a descheduler does). The scenario needs one proxy on each node.
      if [ "$(k get pods -l xks.dev/vault=xks -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | wc -l)" -lt 2 ]; then
        k delete pod "$(pick_proxy)" >/dev/null
        wait_two_ready 120 >/dev/null
        info "re-spread the proxy pods: $(k get pods -l xks.dev/vault=xks -o jsonpath='{range .items[*]}{.spec.nodeName}{" "}{end}')"
      fi
      node=$(pick_proxy node)
      load_start node-stop 240
      t0=$(now_ms)
      "$CLUSTER" node-stop "$(node_number "$node")"
      info "$node stopped"
      for _ in $(seq 240); do
        kubectl get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qv True && break; sleep "$POLL"
      done
      notready=$(( $(now_ms) - t0 ))
      info "$node NotReady after $((notready / 1000)) s"
      # The replacement: a Ready proxy pod that is not on the stopped node, twice.
      for _ in $(seq 360); do
        n=$(k get pods -l xks.dev/vault=xks -o json | jq --arg node "$node" '[.items[] | select(.spec.nodeName != $node) | select(.metadata.deletionTimestamp == null) | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')
        [ "$n" -ge 2 ] && break; sleep "$POLL"
      done
      took=$(( $(now_ms) - t0 ))
      sleep 3
      load_stop
      proxy_pods | sed 's/^/    /'
      ok=pass; { [ "$n" -ge 2 ] && [ "$FAILED" -le "$MAX_IN_FLIGHT" ]; } || ok=FAIL
      row "node $node stopped" "≤ $MAX_IN_FLIGHT in flight" "NotReady after $((notready / 1000)) s; replacement Ready on the other node after $((took / 1000)) s" "$ok"
      "$CLUSTER" node-start "$(node_number "$node")"
      kubectl wait --for=condition=Ready "node/$node" --timeout=120s >/dev/null
      info "$node started again" ;;

    operator-leader)
      log "The operator's leader pod is killed; a CloudKey created meanwhile converges under the standby"
      load_start operator-leader 240
      leader=$(kubectl -n "$OPERATOR_NS" get lease xks-operator-leader -o jsonpath='{.spec.holderIdentity}')
      leader_pod=${leader%%_*}
      # A new name each run: a deleted CloudKey's key material Secret stays (deletionPolicy Retain), and the operator
      # refuses a new CloudKey of the same name as a Conflict, as it should.
      key=failover-$(date +%s)
      t0=$(now_ms)
      kill_container "$leader_pod" "$OPERATOR_NS"
      info "SIGKILL to the operator container of $leader_pod (the leader)"
      k apply -f - >/dev/null <<EOF
apiVersion: xks.dev/v1alpha1
kind: CloudKey
metadata: {name: $key}
spec: {keySetRef: {name: payments}, description: created while the operator leader was down}
EOF
      k wait --for=condition=Ready "cloudkey/$key" --timeout=180s >/dev/null || { k describe cloudkey "$key" | tail -n 20; }
      took=$(( $(now_ms) - t0 ))
      new_leader=$(kubectl -n "$OPERATOR_NS" get lease xks-operator-leader -o jsonpath='{.spec.holderIdentity}')
      sleep 2
      load_stop
      info "leader before: $leader; after: $new_leader"
      ok=pass
      { [ "$(k get cloudkey "$key" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] && [ "$FAILED" = 0 ]; } || ok=FAIL
      row "operator leader killed" "0 failed; CloudKey Ready" "new CloudKey Ready after $((took / 1000)) s (leader $leader_pod → ${new_leader%%_*})" "$ok"
      k delete cloudkey "$key" --wait=false >/dev/null ;;

    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
  esac
done

log "Faults under load ($RATE GenerateDataKey + Decrypt pairs per second through the LB)"
cat "$TABLE"
[ "$failures" = 0 ] || { echo "[faults] $failures scenario(s) broke their bound" >&2; exit 1; }
