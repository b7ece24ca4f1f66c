#!/usr/bin/env bash
# The seed scenario on a laptop: apply the four sample resources, get a KMS key whose material stays with you, store
# an image encrypted under it the way S3 SSE-KMS does, switch the key off (the image cannot be opened), switch it on
# (it opens, byte for byte).
#
# Everything runs as local processes on 127.0.0.1: the control plane (tests/cluster/cluster.sh), the operator, the
# Vault's proxy (run from the config Secret the operator renders, as its pods would), and the KMS emulator standing in
# for AWS KMS (it calls the proxy over HTTPS with SigV4, like AWS). There is no kubelet, so this script marks the
# proxy pods Ready itself.
#
# The Vault's root key is split among custodians (keyProtection Shamir, docs/key-custody.md): the demo runs the
# custodians' ceremony (xks-operator shamir init, 2 of 3 shares), the proxy starts sealed, and two custodians unseal it.
# DEMO_KEY_PROTECTION=Plaintext runs the development mode instead (a plain master-key Secret).
#
#   scripts/demo.sh          run (or re-run) the whole walkthrough; processes keep running afterwards
#   scripts/demo.sh stop     stop the processes this script started (the control plane stays: cluster.sh down)
#   scripts/demo.sh status   show what runs
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DEMO=$ROOT/.data/demo
NS=xks-demo
REGION=eu-west-1
HOSTNAME_XKS=xks.example.com           # the sample Vault's hostname
KMS_PORT=${DEMO_KMS_PORT:-14566}
PROXY_PORT=${DEMO_PROXY_PORT:-18443}
OPERATOR_PORT=${DEMO_OPERATOR_PORT:-18081}
ADMIN_PORT=${DEMO_ADMIN_PORT:-19444}
KEY_PROTECTION=${DEMO_KEY_PROTECTION:-Shamir}
CONFIGURATION=Release
PIDS=$DEMO/pids
IMAGE=$ROOT/tests/testassets/seed-image.png

# shellcheck source=lib/demo-common.sh
. "$ROOT/scripts/lib/demo-common.sh"
bin() { echo "$ROOT/$1/bin/$CONFIGURATION/net10.0/$2"; }

case "${1:-run}" in
  stop)
    stop_processes
    echo "demo processes stopped. The control plane still runs: tests/cluster/cluster.sh down (or make cluster-down)."
    exit 0 ;;
  status)
    if [ -f "$PIDS" ]; then
      while read -r name pid; do
        if kill -0 "$pid" 2>/dev/null; then echo "$name: running (pid $pid)"; else echo "$name: not running"; fi
      done < "$PIDS"
    else
      echo "no demo processes recorded"
    fi
    exit 0 ;;
  run) [ "$KEY_PROTECTION" = Shamir ] || [ "$KEY_PROTECTION" = Plaintext ] || die "DEMO_KEY_PROTECTION is Shamir (default) or Plaintext" ;;
  *) die "usage: scripts/demo.sh [run|stop|status]" ;;
esac

for tool in dotnet curl openssl sha256sum base64; do command -v "$tool" >/dev/null || die "$tool is missing (make deps installs the Debian packages; .NET 10 SDK needed)"; done
mkdir -p "$DEMO"
stop_processes

say "Local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager; built and cached on first use)"
KUBECONFIG=$(tests/cluster/cluster.sh up | tail -n1)
eval "$(tests/cluster/cluster.sh env)"
export KUBECONFIG
info "kubeconfig: $KUBECONFIG"
k() { kubectl -n "$NS" "$@"; }

say "Build the operator, the proxy, the KMS emulator and the demo client ($CONFIGURATION)"
for project in operator proxy tests/Xks.KmsEmulator tests/Xks.SeedClient; do
  dotnet build "$project" -c "$CONFIGURATION" -nologo -v:q > "$DEMO/build.log" 2>&1 || { cat "$DEMO/build.log"; die "building $project failed"; }
done
OPERATOR_DLL=$(bin operator xks-operator.dll)
PROXY_DLL=$(bin proxy xks-proxy.dll)
EMULATOR_DLL=$(bin tests/Xks.KmsEmulator xks-kms-emulator.dll)
CLIENT_DLL=$(bin tests/Xks.SeedClient xks-seed-client.dll)
info "built: $(basename "$OPERATOR_DLL") $(basename "$PROXY_DLL") $(basename "$EMULATOR_DLL") $(basename "$CLIENT_DLL")"

say "A fresh namespace $NS with the CRDs installed"
if kubectl get namespace "$NS" >/dev/null 2>&1; then
  # A previous run: its operator is gone, so release the finalizers it would have handled, then delete everything.
  # The demo's key material is throwaway: its Secrets' custody finalizers (docs/key-custody.md) are released too.
  for kind in cloudkeys keysets cspaccounts vaults secrets; do
    for name in $(k get "$kind" -o name 2>/dev/null); do
      k patch "$name" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
    done
  done
  kubectl delete namespace "$NS" --wait=true --timeout=120s >/dev/null
  info "deleted the previous run's namespace"
fi
kubectl apply -f config/crd/bases/ >/dev/null
# (a CRD a moment old may have no conditions yet, which kubectl wait reports as an error: ask again)
for _ in $(seq 20); do
  kubectl wait --for condition=Established --timeout=60s crd/vaults.xks.dev crd/cspaccounts.xks.dev crd/keysets.xks.dev crd/cloudkeys.xks.dev >/dev/null 2>&1 && break
  sleep 0.25
done
kubectl wait --for condition=Established --timeout=60s crd/vaults.xks.dev crd/cspaccounts.xks.dev crd/keysets.xks.dev crd/cloudkeys.xks.dev >/dev/null
kubectl create namespace "$NS" >/dev/null
info "namespace $NS"

say "A test CA and a certificate for $HOSTNAME_XKS (what a public CA would issue to the Vault)"
TLS=$DEMO/tls
make_test_certificate "$HOSTNAME_XKS" "$TLS" ",IP:127.0.0.1"
info "$TLS/ca.crt, tls.crt, tls.key"

say "The KMS emulator on http://127.0.0.1:$KMS_PORT (AWS KMS + STS; calls $HOSTNAME_XKS at 127.0.0.1:$PROXY_PORT, trusting the test CA)"
OPERATOR_AKID=AKIA$(token 16); OPERATOR_SECRET=$(token 40)
APP_AKID=AKIA$(token 16); APP_SECRET=$(token 40)
umask 077
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$APP_AKID" "$APP_SECRET" > "$DEMO/application.env"
umask 022
nohup dotnet "$EMULATOR_DLL" --port "$KMS_PORT" --region "$REGION" --account 111122223333 \
  --credential "$OPERATOR_AKID:$OPERATOR_SECRET" --credential "$APP_AKID:$APP_SECRET" \
  --resolve "$HOSTNAME_XKS:$PROXY_PORT:127.0.0.1" --ca-file "$TLS/ca.crt" > "$DEMO/kms-emulator.log" 2>&1 &
record kms-emulator $!
wait_for "the KMS emulator" 30 grep -q "listening on" "$DEMO/kms-emulator.log"
info "$(grep -m1 'listening on' "$DEMO/kms-emulator.log")"

say "The samples applied with kubectl (config/samples: Vault xks, CspAccount production, KeySet payments, CloudKey payments-db)"
k create secret generic aws-credentials --from-literal=accessKeyId="$OPERATOR_AKID" --from-literal=secretAccessKey="$OPERATOR_SECRET" >/dev/null
# The demo's CA is no public CA: ca.crt goes into the Secret and the Vault says privateCa (docs/tls.md).
k create secret generic xks-tls --type=kubernetes.io/tls --from-file=tls.crt="$TLS/tls.crt" --from-file=tls.key="$TLS/tls.key" --from-file=ca.crt="$TLS/ca.crt" >/dev/null
k apply -f config/samples/ | sed 's/^/    /'
info "and patched for the laptop: no Ingress controller or cert-manager here, no AWS:"
k patch vault xks --type merge -p '{"spec":{"exposure":{"type":"LoadBalancer","ingress":null},"tls":{"issuerRef":null,"secretName":"xks-tls","privateCa":true}}}' | sed 's/^/    /'
k patch cspaccount production --type merge -p "{\"spec\":{\"endpoint\":\"http://127.0.0.1:$KMS_PORT/\"}}" | sed 's/^/    /'
if [ "$KEY_PROTECTION" = Shamir ]; then
  info "and its root key split among custodians (keyProtection Shamir):"
  k patch vault xks --type merge -p '{"spec":{"keyProtection":{"mode":"Shamir"}}}' | sed 's/^/    /'
fi

say "The operator (watching namespace $NS; metrics and probes on http://127.0.0.1:$OPERATOR_PORT)"
nohup dotnet "$OPERATOR_DLL" run --kubeconfig "$KUBECONFIG" --namespace "$NS" --leader-elect false \
  --http-address 127.0.0.1 --http-port "$OPERATOR_PORT" > "$DEMO/operator.log" 2>&1 &
record operator $!
wait_for "the operator" 60 curl -sf "http://127.0.0.1:$OPERATOR_PORT/readyz"
info "ready; log: $DEMO/operator.log"

if [ "$KEY_PROTECTION" = Shamir ]; then
  say "The custodians' ceremony, once: a root key sealed under an unseal key split 2-of-3 (xks-operator shamir init)"
  rm -rf "$DEMO/shares"
  dotnet "$OPERATOR_DLL" shamir init --kubeconfig "$KUBECONFIG" --namespace "$NS" --vault xks --threshold 2 --shares 3 --out-dir "$DEMO/shares" | sed 's/^/    /'
  info "Secret xks-keyring holds the sealed root; $DEMO/shares holds one share per custodian (nothing else does)"
fi

say "Acting as the kubelet: the Vault's proxy pods marked Running and Ready (no kubelet on this control plane)"
wait_for "the Vault's Deployment" 60 k get deployment xks-proxy
kubelet_loop() {
  local now
  while true; do
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    for pod in $(kubectl -n "$NS" get pods -l xks.dev/vault=xks -o jsonpath='{range .items[?(@.status.phase!="Running")]}{.metadata.name}{" "}{end}' 2>/dev/null); do
      kubectl -n "$NS" patch pod "$pod" --subresource=status --type merge -p "{\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.0.10\",\"startTime\":\"$now\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"},{\"type\":\"Initialized\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"},{\"type\":\"ContainersReady\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"},{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"}]}}" >/dev/null 2>&1 || true
    done
    sleep 2
  done
}
export NS
nohup bash -c "$(declare -f kubelet_loop); kubelet_loop" > "$DEMO/kubelet.log" 2>&1 &
record kubelet $!
wait_for "the proxy Deployment's 2 replicas" 90 bash -c "[ \"\$(kubectl -n $NS get deployment xks-proxy -o jsonpath='{.status.availableReplicas}')\" = 2 ]"
info "deployment/xks-proxy: 2/2 available"

say "The Vault's proxy as a local process: its config Secret watched, TLS (and, in Plaintext mode, the master key) where the pod mounts them"
VOLUME=$DEMO/proxy-root
rm -rf "$VOLUME"; mkdir -p "$VOLUME/var/run/xks/master-key" "$VOLUME/var/run/xks/tls" "$VOLUME/var/lib/xks"
ADMIN=()
if [ "$KEY_PROTECTION" = Plaintext ]; then
  wait_for "the master key Secret" 60 k get secret xks-master-key
  k get secret xks-master-key -o jsonpath='{.data.master\.key}' | base64 -d > "$VOLUME/var/run/xks/master-key/master.key"
  chmod 600 "$VOLUME/var/run/xks/master-key/master.key"
else
  ADMIN=(--admin-port "$ADMIN_PORT")
fi
k get secret xks-tls -o jsonpath='{.data.tls\.crt}' | base64 -d > "$VOLUME/var/run/xks/tls/tls.crt"
k get secret xks-tls -o jsonpath='{.data.tls\.key}' | base64 -d > "$VOLUME/var/run/xks/tls/tls.key"
chmod 600 "$VOLUME/var/run/xks/tls/tls.key"
wait_for "the proxy config Secret" 60 k get secret xks-proxy-config
nohup dotnet "$PROXY_DLL" serve --config-secret "$NS/xks-proxy-config" --kubeconfig "$KUBECONFIG" \
  --volume-root "$VOLUME" --address 127.0.0.1 --port "$PROXY_PORT" --metrics-port 0 "${ADMIN[@]}" > "$DEMO/proxy.log" 2>&1 &
record proxy $!
PROXY_CURL=(curl -s --cacert "$TLS/ca.crt" --resolve "$HOSTNAME_XKS:$PROXY_PORT:127.0.0.1")
if [ "$KEY_PROTECTION" = Shamir ]; then
  wait_for "the proxy's unseal API" 60 curl -sf "http://127.0.0.1:$ADMIN_PORT/admin/v1/seal-status"
  info "the proxy started sealed: /readyz answers $("${PROXY_CURL[@]}" -o /dev/null -w '%{http_code}' "https://$HOSTNAME_XKS:$PROXY_PORT/readyz"); in a cluster each custodian reaches it with kubectl port-forward pod/<xks-proxy-pod> 9444"
  for share in "$DEMO"/shares/xks-share-1-of-3.txt "$DEMO"/shares/xks-share-3-of-3.txt; do
    info "custodian $(basename "$share" .txt | sed 's/xks-share-//'): xks-proxy admin unseal --url http://127.0.0.1:$ADMIN_PORT --share-file $(basename "$share")"
    dotnet "$PROXY_DLL" admin unseal --url "http://127.0.0.1:$ADMIN_PORT" --share-file "$share" | sed 's/^/    /'
  done
fi
wait_for "the proxy" 60 "${PROXY_CURL[@]}" -f "https://$HOSTNAME_XKS:$PROXY_PORT/readyz"
info "https://$HOSTNAME_XKS:$PROXY_PORT (resolved to 127.0.0.1) ready; log: $DEMO/proxy.log"

say "Waiting until all four resources are Ready (the operator creates the key store, connects it, creates the KMS key)"
if ! kubectl -n "$NS" wait --for=condition=Ready vault/xks cspaccount/production keyset/payments cloudkey/payments-db --timeout=180s | sed 's/^/    /'; then
  k get vault,cspaccount,keyset,cloudkey -o wide
  die "not Ready: see kubectl -n $NS describe keyset,cloudkey and $DEMO/operator.log"
fi
kubectl -n "$NS" get vault,cspaccount,keyset,cloudkey | sed 's/^/    /'

client() { # encrypt|decrypt args… (the application's AWS credential from application.env)
  env $(cat "$DEMO/application.env") dotnet "$CLIENT_DLL" "$@" --endpoint "http://127.0.0.1:$KMS_PORT/" --region "$REGION"
}
ENVELOPE=$DEMO/seed-image.png.envelope.json
OPENED=$DEMO/seed-image.decrypted.png
SHA_ORIGINAL=$(sha256sum "$IMAGE" | cut -d' ' -f1)

say "Store the image the way S3 SSE-KMS does: a data key from KMS (alias/payments/db), the image encrypted locally, the wrapped key beside it"
client encrypt --key-id alias/payments/db --in "$IMAGE" --out "$ENVELOPE" --context aws:s3:arn=arn:aws:s3:::seed-bucket/seed-image.png | sed 's/^/    /'
info "stored: $ENVELOPE (ciphertext, nonce, tag, wrapped data key, encryption context)"
client decrypt --in "$ENVELOPE" --out "$OPENED" | sed 's/^/    /'
[ "$(sha256sum "$OPENED" | cut -d' ' -f1)" = "$SHA_ORIGINAL" ] || die "the decrypted image differs"
info "sha256 $SHA_ORIGINAL — identical to the original"

seed_switch_off_and_on "$ENVELOPE" "$OPENED" "$SHA_ORIGINAL"

say "A health call to the proxy, signed with SigV4 as AWS KMS signs it, with the KeySet's credential (from its Secret)"
AKID=$(k get secret payments-xks-credential -o jsonpath='{.data.accessKeyId}' | base64 -d)
SECRET=$(k get secret payments-xks-credential -o jsonpath='{.data.secretAccessKey}' | base64 -d)
printf '    %s\n' "$("${PROXY_CURL[@]}" --aws-sigv4 "aws:amz:$REGION:kms-xks-proxy" --user "$AKID:$SECRET" -H 'Content-Type: application/json' \
  -d '{"requestMetadata":{"kmsRequestId":"1","kmsOperation":"KmsHealthCheck"}}' "https://$HOSTNAME_XKS:$PROXY_PORT/payments/kms/xks/v1/health")"

say "Done. The operator, the proxy and the KMS emulator keep running. Poke at them:"
cat <<EOF
    export KUBECONFIG=$KUBECONFIG PATH=$(dirname "$(command -v kubectl)"):\$PATH
    kubectl get vault,cspaccount,keyset,cloudkey -n $NS
    kubectl describe cloudkey payments-db -n $NS          # conditions and Events
    kubectl get secret payments-xks-credential -n $NS -o jsonpath='{.data.keystore\.json}' | base64 -d   # the AWS console's import file

    # A health call to the proxy, signed with SigV4 exactly as AWS KMS signs it, with the KeySet's credential:
    AKID=\$(kubectl get secret payments-xks-credential -n $NS -o jsonpath='{.data.accessKeyId}' | base64 -d)
    SECRET=\$(kubectl get secret payments-xks-credential -n $NS -o jsonpath='{.data.secretAccessKey}' | base64 -d)
    curl -s --aws-sigv4 "aws:amz:$REGION:kms-xks-proxy" --user "\$AKID:\$SECRET" \\
      --cacert $TLS/ca.crt --resolve $HOSTNAME_XKS:$PROXY_PORT:127.0.0.1 -H 'Content-Type: application/json' \\
      -d '{"requestMetadata":{"kmsRequestId":"1","kmsOperation":"KmsHealthCheck"}}' \\
      https://$HOSTNAME_XKS:$PROXY_PORT/payments/kms/xks/v1/health

    # The client again (switch the key off and on with kubectl patch, as above):
    env \$(cat $DEMO/application.env) dotnet $CLIENT_DLL decrypt --endpoint http://127.0.0.1:$KMS_PORT/ --region $REGION --in $ENVELOPE --out /tmp/seed.png

    Logs: $DEMO/{operator,proxy,kms-emulator,kubelet}.log
    Stop: scripts/demo.sh stop        (the control plane: tests/cluster/cluster.sh down)
EOF
