#!/usr/bin/env bash
# A real load balancer for a Vault's LoadBalancer Service on this machine, the way the AWS Load Balancer Controller
# realises one as an NLB with IP targets (service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip):
# HAProxy on the host passes TLS through (mode tcp) to the proxy pods' IPs on both nodes, health-checks each target
# with GET /readyz over TLS (1 s interval, down after 2 failures or one failed connection, up after 2 successes), and
# this script registers and deregisters targets as the Service's ready endpoints change (a kubectl watch). Targets
# change through HAProxy's runtime API (a free server slot gets the pod's address and leaves maintenance; a gone
# pod's slot goes into maintenance, where its open connections finish), so HAProxy never reloads. Idle connections
# time out after 350 s, an NLB's idle timeout: longer than clients keep them, so the client closes an idle one first.
#
#   scripts/load-balancer.sh NAMESPACE SERVICE LISTEN_ADDRESS:PORT TARGET_PORT STATE_DIR
#
# Runs until killed; start it with setsid: SIGTERM stops its whole process group (HAProxy, the watch). Logs each
# target change to stdout.
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: $0 NAMESPACE SERVICE LISTEN_ADDRESS:PORT TARGET_PORT STATE_DIR" >&2; exit 2; }
NS=$1 SERVICE=$2 LISTEN=$3 TARGET_PORT=$4 DIR=$5
SLOTS=8
mkdir -p "$DIR"
CONFIG=$DIR/haproxy.cfg
SOCKET=$DIR/haproxy.sock
TARGETS=$DIR/targets          # one line per slot: "sN IP" (IP "-" when free)

{
  cat <<EOF
global
  maxconn 4096
  stats socket $SOCKET mode 600 level admin
  log stdout format raw local0
defaults
  mode tcp
  log global
  option tcplog
  option log-health-checks
  timeout connect 500ms
  timeout client 350s
  timeout server 350s
  retries 3
  option redispatch 1
frontend xks
  bind $LISTEN
  default_backend targets
backend targets
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server check check-ssl verify none inter 1s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down
EOF
  for i in $(seq 1 "$SLOTS"); do printf '  server s%d 127.0.0.1:%s disabled\n' "$i" "$TARGET_PORT"; done
} > "$CONFIG"
for i in $(seq 1 "$SLOTS"); do echo "s$i -"; done > "$TARGETS"

haproxy -c -q -f "$CONFIG"
rm -f "$SOCKET"
haproxy -db -f "$CONFIG" &
HAPROXY=$!
for _ in $(seq 50); do [ -S "$SOCKET" ] && break; sleep 0.1; done
echo "[lb] listening on $LISTEN (haproxy pid $HAPROXY); targets follow endpoints/$SERVICE in $NS"

api() { echo "$1" | socat stdio "unix-connect:$SOCKET" >/dev/null; }

# Makes the registered targets equal to the given IPs: new targets first, then the gone ones, so a swap (an eviction
# whose replacement became Ready in the same endpoints update) never leaves the backend without a server.
apply_targets() {
  local wanted=" $* " slot ip changed=""
  for ip in "$@"; do
    grep -q " $ip\$" "$TARGETS" && continue
    slot=$(awk '$2 == "-" {print $1; exit}' "$TARGETS")
    [ -n "$slot" ] || { echo "[lb] no free slot for $ip" >&2; continue; }
    api "set server targets/$slot addr $ip port $TARGET_PORT"
    api "set server targets/$slot state ready"
    sed -i "s/^$slot .*/$slot $ip/" "$TARGETS"
    changed="$changed +$ip"
  done
  while read -r slot ip; do
    if [ "$ip" != - ] && [[ $wanted != *" $ip "* ]]; then
      api "set server targets/$slot state maint"
      sed -i "s/^$slot .*/$slot -/" "$TARGETS"
      changed="$changed -$ip"
    fi
  done < <(cat "$TARGETS")
  [ -z "$changed" ] || echo "[lb] $(date -u +%H:%M:%S.%3N)$changed → targets: $(awk '$2 != "-" {printf "%s ", $2}' "$TARGETS")"
}

follow_endpoints() {
  while true; do
    kubectl -n "$NS" get endpoints "$SERVICE" --watch --output \
      jsonpath='{range .subsets[*].addresses[*]}{.ip}{" "}{end}{"\n"}' 2>/dev/null | while read -r line; do
      # shellcheck disable=SC2086
      apply_targets $(printf '%s\n' $line | sort -u)
    done
    sleep 1
  done
}
follow_endpoints &
trap 'trap - TERM INT; kill -TERM 0 2>/dev/null; exit 0' TERM INT
wait "$HAPROXY"
