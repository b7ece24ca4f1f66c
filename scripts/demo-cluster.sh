#!/usr/bin/env bash
# The seed scenario the way users run it: real pods on two real nodes, installed with Helm, behind a load balancer.
#
#   cluster (tests/cluster/cluster.sh up --nodes): etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#     two nodes (kubelet + containerd each), kube-proxy — all local processes, pods on bridges 10.244.1/24, 10.244.2/24
#   images (make images): xks-operator and xks-proxy built here from the Dockerfiles, imported into both nodes
#   helm install charts/xks-operator → two operator pods (leader election), then the samples → the Vault's proxy pods,
#     one per node, reading their Secrets as UID 65532 from a read-only root filesystem
#   a load balancer (scripts/load-balancer.sh: HAProxy on 127.0.0.1:$LB_PORT, TCP passthrough, health checks on
#     /readyz) with the proxy pods on both nodes as its targets, following the Service's endpoints — what an NLB with
#     IP targets does (the AWS Load Balancer Controller's nlb-target-type: ip). Node ports are not used: this
#     machine's two nodes share one kube-proxy, so externalTrafficPolicy Local cannot tell the nodes apart.
#   the KMS emulator (a host process standing in for AWS KMS) calls https://xks.example.com through that LB
#
#   scripts/demo-cluster.sh          run the walkthrough; everything keeps running afterwards
#   scripts/demo-cluster.sh stop     stop the emulator and the LB, uninstall, and take the cluster down
#   scripts/demo-cluster.sh env      print the variables the pod-tier tests use (after a run)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DEMO=$ROOT/.data/demo-cluster
NS=xks-demo
OPERATOR_NS=xks-system
REGION=eu-west-1
HOSTNAME_XKS=xks.example.com
HOST_IP=10.244.1.1                     # the first node bridge's host side: pods reach host processes here
KMS_PORT=${DEMO_KMS_PORT:-14566}
LB_PORT=${DEMO_LB_PORT:-18443}
CONFIGURATION=Release
VERSION=$(cat VERSION)
PIDS=$DEMO/pids
IMAGE=$ROOT/tests/testassets/seed-image.png
CLUSTER=$ROOT/tests/cluster/cluster.sh

# shellcheck source=lib/demo-common.sh
. "$ROOT/scripts/lib/demo-common.sh"
bin() { echo "$ROOT/$1/bin/$CONFIGURATION/net10.0/$2"; }

# AWS runs on its own machines; here the KMS emulator (AWS KMS) and the load balancer (the NLB) share two cores with
# the cluster and the tests' own clients. They get the CPU weight the nodes' pods get (cgroup v1 cpu.shares, as
# tests/cluster/nodes.sh gives k8s.io), so a fault's cost is measured on the proxy fleet, not on a starved stand-in.
AWS_CGROUP=/sys/fs/cgroup/cpu/xks-aws
# Use as `aws_side COMMAND… &`: it replaces the background subshell, so $! is the command's own PID.
aws_side() {
  # cgroup v1 only: on a cgroup v2 host /sys/fs/cgroup/cpu would be a new cgroup, not the cpu controller.
  if [ -f /sys/fs/cgroup/cpu/cpu.shares ] && mkdir -p "$AWS_CGROUP" 2>/dev/null && echo 8192 > "$AWS_CGROUP/cpu.shares" 2>/dev/null; then
    exec sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$AWS_CGROUP" "$@"
  fi
  exec "$@"
}

case "${1:-run}" in
  stop)
    stop_processes
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ ! -d "$AWS_CGROUP" ] || rmdir "$AWS_CGROUP" 2>/dev/null || { sleep 0.5; continue; }; break; done
    "$CLUSTER" down
    exit 0 ;;
  env)
    [ -f "$DEMO/env" ] || die "no run recorded; scripts/demo-cluster.sh first"
    cat "$DEMO/env"
    exit 0 ;;
  run) ;;
  *) die "usage: scripts/demo-cluster.sh [run|stop|env]" ;;
esac

for tool in dotnet curl openssl sha256sum base64; do command -v "$tool" >/dev/null || die "$tool is missing"; done
[ "$(id -u)" = 0 ] || die "real nodes need root (bridges, iptables, containerd)"
mkdir -p "$DEMO"
stop_processes
started=$(date +%s)

say "A cluster with two real nodes (control plane + kube-scheduler + 2 × kubelet/containerd + kube-proxy; built and cached on first use)"
if "$CLUSTER" status && [ ! -d "$ROOT/.data/cluster/nodes" ]; then
  info "a control plane without nodes is running (the fast test tier's); taking it down first"
  "$CLUSTER" down
fi
KUBECONFIG=$("$CLUSTER" up --nodes | tail -n1)
eval "$("$CLUSTER" env)"
export KUBECONFIG
kubectl get nodes -o wide | sed 's/^/    /'

say "The images, built here from operator/Dockerfile and proxy/Dockerfile (make images), imported into both nodes"
make -s images > "$DEMO/images.log" 2>&1 || { cat "$DEMO/images.log"; die "make images failed"; }
grep -E '^(xks-|  )' "$DEMO/images.log" | sed 's/^/    /' || true
"$CLUSTER" import "$ROOT/artifacts/images/xks-operator.tar" "$ROOT/artifacts/images/xks-proxy.tar"

say "The KMS emulator and the demo client (host processes; $CONFIGURATION)"
for project in tests/Xks.KmsEmulator tests/Xks.SeedClient; do
  dotnet build "$project" -c "$CONFIGURATION" -nologo -v:q > "$DEMO/build.log" 2>&1 || { cat "$DEMO/build.log"; die "building $project failed"; }
done
EMULATOR_DLL=$(bin tests/Xks.KmsEmulator xks-kms-emulator.dll)
CLIENT_DLL=$(bin tests/Xks.SeedClient xks-seed-client.dll)

say "helm install xks-operator from the packaged chart (make chart): two operator pods, leader election, the chart's RBAC and ServiceAccount"
make -s chart > "$DEMO/chart.log" 2>&1 || { cat "$DEMO/chart.log"; die "make chart failed"; }
CHART=$ROOT/artifacts/xks-operator-$VERSION.tgz
helm uninstall xks-operator -n "$OPERATOR_NS" --wait >/dev/null 2>&1 || true
cat > "$DEMO/values.yaml" <<EOF
image: {repository: localhost/xks-operator, tag: "$VERSION", pullPolicy: Never}
proxy:
  image: {repository: localhost/xks-proxy, tag: "$VERSION"}
# The KMS emulator on the host speaks plain http (a real CspAccount endpoint must be https).
aws: {allowHttpEndpoints: true}
# Nothing here may reach the EC2 metadata address: the AWS SDK must not look for instance credentials.
extraEnv:
  - {name: AWS_EC2_METADATA_DISABLED, value: "true"}
EOF
helm install xks-operator "$CHART" -n "$OPERATOR_NS" --create-namespace -f "$DEMO/values.yaml" \
  --wait --timeout 180s | sed -n '1,6p' | sed 's/^/    /'
kubectl -n "$OPERATOR_NS" get pods -o wide | sed 's/^/    /'
leader=$(kubectl -n "$OPERATOR_NS" get lease xks-operator-leader -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true)
info "leader: ${leader:-(electing)}"

say "A fresh namespace $NS, a test CA and a certificate for $HOSTNAME_XKS (what a public CA would issue)"
if kubectl get namespace "$NS" >/dev/null 2>&1; then
  # A previous run's key material is throwaway: release its Secrets' custody finalizers (docs/key-custody.md).
  for name in $(kubectl -n "$NS" get secrets -o name 2>/dev/null); do
    kubectl -n "$NS" patch "$name" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  done
  kubectl delete namespace "$NS" --wait=true --timeout=120s >/dev/null
fi
kubectl create namespace "$NS" >/dev/null
TLS=$DEMO/tls
make_test_certificate "$HOSTNAME_XKS" "$TLS"

say "The KMS emulator on http://$HOST_IP:$KMS_PORT (reachable from the operator pods; calls $HOSTNAME_XKS through the LB at 127.0.0.1:$LB_PORT)"
OPERATOR_AKID=AKIA$(token 16); OPERATOR_SECRET=$(token 40)
APP_AKID=AKIA$(token 16); APP_SECRET=$(token 40)
umask 077
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$APP_AKID" "$APP_SECRET" > "$DEMO/application.env"
umask 022
aws_side nohup dotnet "$EMULATOR_DLL" --address "$HOST_IP" --port "$KMS_PORT" --region "$REGION" --account 111122223333 \
  --credential "$OPERATOR_AKID:$OPERATOR_SECRET" --credential "$APP_AKID:$APP_SECRET" \
  --resolve "$HOSTNAME_XKS:$LB_PORT:127.0.0.1" --ca-file "$TLS/ca.crt" --xks-timeout-ms "${DEMO_XKS_TIMEOUT_MS:-1000}" \
  > "$DEMO/kms-emulator.log" 2>&1 &
record kms-emulator $!
wait_for "the KMS emulator" 30 grep -q "listening on" "$DEMO/kms-emulator.log"

say "The samples applied with kubectl, patched for this machine (LoadBalancer exposure with our certificate; the emulator as AWS)"
k() { kubectl -n "$NS" "$@"; }
k create secret generic aws-credentials --from-literal=accessKeyId="$OPERATOR_AKID" --from-literal=secretAccessKey="$OPERATOR_SECRET" >/dev/null
# The demo's CA is no public CA: ca.crt goes into the Secret and the Vault says privateCa (docs/tls.md).
k create secret generic xks-tls --type=kubernetes.io/tls --from-file=tls.crt="$TLS/tls.crt" --from-file=tls.key="$TLS/tls.key" --from-file=ca.crt="$TLS/ca.crt" >/dev/null
# Patched before they are applied (kubectl patch --local), so nothing rolls.
for sample in config/samples/*.yaml; do
  case "$sample" in
    *_vault.yaml) patch='{"spec":{"exposure":{"type":"LoadBalancer","ingress":null},"tls":{"issuerRef":null,"secretName":"xks-tls","privateCa":true}}}' ;;
    *_cspaccount.yaml) patch="{\"spec\":{\"endpoint\":\"http://$HOST_IP:$KMS_PORT/\"}}" ;;
    *) patch='{}' ;;
  esac
  kubectl patch --local -f "$sample" --type merge -p "$patch" -o yaml | k apply -f - | sed 's/^/    /'
done

say "The Vault's proxy pods: Running and Ready through their own probes, one on each node"
wait_for "the Vault's Deployment" 90 k get deployment xks-proxy
k rollout status deployment/xks-proxy --timeout=180s | sed 's/^/    /' || { k describe pods -l xks.dev/vault=xks | tail -n 40; die "proxy pods not Ready"; }
k get pods -l xks.dev/vault=xks -o wide | sed 's/^/    /'
nodes=$(k get pods -l xks.dev/vault=xks -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | wc -l)
[ "$nodes" -ge 2 ] || die "the proxy pods are not on two different nodes"
# Seen from the host: the proxy processes run as 65532 on a read-only root filesystem.
for pid in $(pgrep -f '/app/xks-proxy serve' || true); do
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  rootfs=$(awk '$5 == "/" {print $6}' "/proc/$pid/mountinfo" | cut -d, -f1)
  info "proxy process $pid: uid $uid, root filesystem $rootfs"
  [ "$uid" = 65532 ] && [ "$rootfs" = ro ] || die "a proxy process runs as uid $uid with a $rootfs root filesystem"
done

say "The load balancer: HAProxy on 127.0.0.1:$LB_PORT → the proxy pods on both nodes (IP targets, as an NLB made by the AWS Load Balancer Controller), health checks on /readyz"
wait_for "the Vault's LoadBalancer Service" 60 k get service xks-proxy-lb
aws_side setsid scripts/load-balancer.sh "$NS" xks-proxy-lb "127.0.0.1:$LB_PORT" 8443 "$DEMO/lb" > "$DEMO/load-balancer.log" 2>&1 < /dev/null &
record load-balancer $!
LB_CURL=(curl -s --cacert "$TLS/ca.crt" --resolve "$HOSTNAME_XKS:$LB_PORT:127.0.0.1")
wait_for "the load balancer" 30 "${LB_CURL[@]}" -f "https://$HOSTNAME_XKS:$LB_PORT/readyz"
info "https://$HOSTNAME_XKS:$LB_PORT/readyz → $("${LB_CURL[@]}" "https://$HOSTNAME_XKS:$LB_PORT/readyz")"
sed 's/^/    /' "$DEMO/load-balancer.log"

say "Waiting until all four resources are Ready (the operator pod creates the key store, connects it, creates the KMS key)"
if ! k wait --for=condition=Ready vault/xks cspaccount/production keyset/payments cloudkey/payments-db --timeout=240s | sed 's/^/    /'; then
  k get vault,cspaccount,keyset,cloudkey -o wide
  kubectl -n "$OPERATOR_NS" logs -l app.kubernetes.io/name=xks-operator --tail=30 --prefix || true
  die "not Ready: see kubectl -n $NS describe keyset,cloudkey"
fi
k get vault,cspaccount,keyset,cloudkey | sed 's/^/    /'

cat > "$DEMO/env" <<EOF
export KUBECONFIG=$KUBECONFIG
export PATH=$(dirname "$(command -v kubectl)"):\$PATH
DEMO=$DEMO
NS=$NS
OPERATOR_NS=$OPERATOR_NS
REGION=$REGION
KMS_ENDPOINT=http://$HOST_IP:$KMS_PORT/
CLIENT_DLL=$CLIENT_DLL
LB_PORT=$LB_PORT
HOSTNAME_XKS=$HOSTNAME_XKS
CLUSTER=$CLUSTER
EOF

client() { # encrypt|decrypt args… (the application's AWS credential from application.env)
  env $(cat "$DEMO/application.env") dotnet "$CLIENT_DLL" "$@" --endpoint "http://$HOST_IP:$KMS_PORT/" --region "$REGION"
}
ENVELOPE=$DEMO/seed-image.png.envelope.json
OPENED=$DEMO/seed-image.decrypted.png
SHA_ORIGINAL=$(sha256sum "$IMAGE" | cut -d' ' -f1)

say "Store the image the way S3 SSE-KMS does (data key from KMS, whose XKS calls go through the LB to the pods)"
client encrypt --key-id alias/payments/db --in "$IMAGE" --out "$ENVELOPE" --context aws:s3:arn=arn:aws:s3:::seed-bucket/seed-image.png | sed 's/^/    /'
client decrypt --in "$ENVELOPE" --out "$OPENED" | sed 's/^/    /'
[ "$(sha256sum "$OPENED" | cut -d' ' -f1)" = "$SHA_ORIGINAL" ] || die "the decrypted image differs"
info "sha256 $SHA_ORIGINAL — identical to the original"

seed_switch_off_and_on "$ENVELOPE" "$OPENED" "$SHA_ORIGINAL"

say "Who served it: each proxy pod's own metrics (successful XKS Encrypt / Decrypt calls, read from the pod)"
served=0
for pod in $(k get pods -l xks.dev/vault=xks -o json | jq -r '.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name'); do
  ip=$(k get pod "$pod" -o jsonpath='{.status.podIP}')
  counts=$(curl -s "http://$ip:9090/metrics" | awk '/^xks_requests_total\{operation="(Encrypt|Decrypt)",outcome="Success"\}/ {split($1, a, "\""); printf "%s=%d ", a[2], $2; n += $2} END {printf "(%d)", n}')
  info "$pod on $(k get pod "$pod" -o jsonpath='{.spec.nodeName}') ($ip): $counts"
  served=$((served + $(echo "$counts" | sed 's/.*(\([0-9]*\))/\1/')))
done
[ "$served" -gt 0 ] || die "no proxy pod reports a successful Encrypt or Decrypt"
info "the KMS emulator's XKS calls reached the pods through 127.0.0.1:$LB_PORT: $(grep -c "$HOSTNAME_XKS" "$DEMO/kms-emulator.log" || true) log lines name $HOSTNAME_XKS"

say "Done in $(( $(date +%s) - started )) s. Everything keeps running:"
cat <<EOF
    eval "\$(scripts/demo-cluster.sh env)"
    kubectl get pods -A -o wide
    kubectl -n $NS describe cloudkey payments-db
    curl -s --cacert $TLS/ca.crt --resolve $HOSTNAME_XKS:$LB_PORT:127.0.0.1 https://$HOSTNAME_XKS:$LB_PORT/readyz
    Logs: $DEMO/{kms-emulator,load-balancer}.log, .data/cluster/logs/, kubectl logs
    Stop: scripts/demo-cluster.sh stop   (also takes the cluster down)
EOF
