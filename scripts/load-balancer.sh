#!/usr/bin/env bash
# A real load balancer for a Vault's LoadBalancer Service on this machine, the way the AWS Load Balancer Controller
# realises one as an NLB with IP targets (service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip):
# HAProxy on the host passes TLS through (mode tcp) to the proxy pods' IPs on both nodes, health-checks each target
# with GET /readyz over TLS (1 s interval, down after 2 failures or one failed connection), and this script registers
# and deregisters targets as the Service's ready endpoints change (a kubectl watch; HAProxy reloads gracefully, so
# connections to targets that stay are kept).
#
#   scripts/load-balancer.sh NAMESPACE SERVICE LISTEN_ADDRESS:PORT TARGET_PORT STATE_DIR
#
# Runs until killed; start it with setsid: SIGTERM stops its whole process group (HAProxy, the watch). Logs each target
# change to stdout.
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: $0 NAMESPACE SERVICE LISTEN_ADDRESS:PORT TARGET_PORT STATE_DIR" >&2; exit 2; }
NS=$1 SERVICE=$2 LISTEN=$3 TARGET_PORT=$4 DIR=$5
mkdir -p "$DIR"
CONFIG=$DIR/haproxy.cfg

render() { # target IPs…
  cat <<EOF
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 500ms
  timeout client 60s
  timeout server 60s
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
  local ip
  for ip in "$@"; do printf '  server %s %s:%s\n' "pod-${ip//./-}" "$ip" "$TARGET_PORT"; done
}

render > "$CONFIG"
haproxy -c -q -f "$CONFIG"
haproxy -W -db -f "$CONFIG" &
HAPROXY=$!
echo "[lb] listening on $LISTEN (haproxy pid $HAPROXY); targets follow endpoints/$SERVICE in $NS"

follow_endpoints() {
while true; do
  kubectl -n "$NS" get endpoints "$SERVICE" --watch --output \
    jsonpath='{range .subsets[*].addresses[*]}{.ip}{" "}{end}{"\n"}' 2>/dev/null | while read -r line; do
    # shellcheck disable=SC2086
    targets=$(printf '%s\n' $line | sort -u | tr '\n' ' ')
    # shellcheck disable=SC2086
    render $targets > "$CONFIG.new"
    if ! cmp -s "$CONFIG.new" "$CONFIG"; then
      mv "$CONFIG.new" "$CONFIG"
      kill -USR2 "$HAPROXY"
      echo "[lb] $(date -u +%H:%M:%S.%3N) targets: ${targets:-none}"
    fi
  done
  sleep 1
done
}
follow_endpoints &
trap 'trap - TERM INT; kill -TERM 0 2>/dev/null; exit 0' TERM INT
wait "$HAPROXY"
