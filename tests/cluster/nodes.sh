# Two real nodes for the pod tier, sourced by cluster.sh (which defines log/die/apt_packages/pid_alive/stop_pid and the
# STATE/CACHE/BIN paths). See ../shared/design/REAL-NODES.md for why each setting is what it is.
#
# Each node has its own bridge (xks-brN, 10.244.N.1/24), containerd (own root, state, sockets, runc root, CNI config
# and IPAM dir) and kubelet (own root dir, ports on its bridge IP). One kube-proxy (iptables) and one kube-scheduler
# serve both. Pods get no default route and no masquerade; a guard chain first in mangle FORWARD drops anything
# forwarded from the bridges to any other interface, so no pod packet can leave this machine.
# shellcheck shell=bash

NODE_COUNT=2
NODE_PREFIX=xks-node
BRIDGE_PREFIX=xks-br
POD_NETWORK=10.244.0.0/16
SERVICE_NETWORK=10.0.0.0/24
API_NODE_ADDRESS=10.244.1.1            # the first bridge's address: where the API server listens when nodes run
PAUSE_IMAGE=localhost/pause:3.4
GUARD_CHAIN=XKS-NODE-GUARD
NODE_PACKAGES="containerd runc containernetworking-plugins buildah conntrack iptables iproute2 haproxy socat jq"
SYSCTLS="net.ipv4.ip_forward net.ipv4.conf.all.route_localnet"

node_name() { echo "$NODE_PREFIX-$1"; }
node_dir() { echo "$STATE/nodes/$(node_name "$1")"; }
node_bridge() { echo "$BRIDGE_PREFIX$1"; }
node_ip() { echo "10.244.$1.1"; }
node_socket() { echo "$(node_dir "$1")/containerd.sock"; }
node_token() { cat "$STATE/node-$1.token"; }

random_token() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# --- images -----------------------------------------------------------------------------------------------------

# The pause image, FROM scratch with the static pause binary built from the Kubernetes source (nothing is pulled).
pause_archive() {
  local archive="$CACHE/images/pause.tar"
  if [ ! -s "$archive" ]; then
    mkdir -p "$CACHE/images"
    local ctr; ctr="$(buildah from scratch)"
    buildah copy "$ctr" "$BIN/pause" /pause >/dev/null
    buildah config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
    buildah commit -q "$ctr" "$PAUSE_IMAGE" >/dev/null
    buildah rm "$ctr" >/dev/null
    buildah push -q "$PAUSE_IMAGE" "oci-archive:$archive.tmp:$PAUSE_IMAGE"
    mv "$archive.tmp" "$archive"
  fi
  echo "$archive"
}

# Loads OCI archives into every node's containerd (namespace k8s.io, where the kubelet looks). No registry is involved.
import_images() {
  local n archive
  for n in $(seq 1 "$NODE_COUNT"); do
    for archive in "$@"; do
      [ -s "$archive" ] || die "no image archive at $archive"
      ctr -a "$(node_socket "$n")" -n k8s.io images import --no-unpack=false "$archive" >/dev/null \
        || die "importing $archive into $(node_name "$n") failed"
    done
  done
  log "imported into ${NODE_COUNT} nodes: $(for a in "$@"; do basename "$a"; done | tr '\n' ' ')"
}

# --- network ----------------------------------------------------------------------------------------------------

# Host paths both kubelets hard-code: those missing now are created by this cluster and removed by nodes_down.
HOST_PATHS="/var/lib/kubelet/device-plugins /var/log/pods /var/log/containers /var/lib/cni/results"

network_up() {
  mkdir -p "$STATE/nodes"
  if [ ! -f "$STATE/nodes/host-paths.created" ]; then
    local path; for path in $HOST_PATHS; do [ -e "$path" ] || echo "$path"; done > "$STATE/nodes/host-paths.created"
  fi
  if [ ! -f "$STATE/nodes/sysctl.saved" ]; then
    local s; for s in $SYSCTLS; do echo "$s=$(sysctl -n "$s")"; done > "$STATE/nodes/sysctl.saved"
  fi
  local n
  for n in $(seq 1 "$NODE_COUNT"); do
    local br; br="$(node_bridge "$n")"
    ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge
    # A fixed MAC: a bridge without one takes its lowest port's MAC, which changes whenever a pod's veth comes or goes,
    # and pods keep sending to the gateway's old MAC until their ARP entry expires (seconds of lost packets).
    ip link set "$br" address "$(printf '02:78:6b:73:%02x:01' "$n")"
    ip addr show dev "$br" | grep -q "inet $(node_ip "$n")/24" || ip addr add "$(node_ip "$n")/24" dev "$br"
    ip link set "$br" up
  done
  # Host-originated traffic to Service IPs is routed onto the first bridge, where kube-proxy's DNAT rewrites it.
  ip route replace "$SERVICE_NETWORK" dev "$(node_bridge 1)"
  sysctl -qw net.ipv4.ip_forward=1
  # The guard: nothing forwarded from a node bridge may leave through any other interface.
  iptables -w -t mangle -N "$GUARD_CHAIN" 2>/dev/null || iptables -w -t mangle -F "$GUARD_CHAIN"
  iptables -w -t mangle -A "$GUARD_CHAIN" -i "$BRIDGE_PREFIX+" -o "$BRIDGE_PREFIX+" -j RETURN
  iptables -w -t mangle -A "$GUARD_CHAIN" -i "$BRIDGE_PREFIX+" -j DROP
  iptables -w -t mangle -C FORWARD -j "$GUARD_CHAIN" 2>/dev/null || iptables -w -t mangle -I FORWARD 1 -j "$GUARD_CHAIN"
  # Bridge-local pod traffic passes iptables too, so Service replies from a pod on the same bridge are un-DNATed.
  modprobe br_netfilter 2>/dev/null || true
}

network_down() {
  local n
  iptables -w -t mangle -D FORWARD -j "$GUARD_CHAIN" 2>/dev/null || true
  iptables -w -t mangle -F "$GUARD_CHAIN" 2>/dev/null || true
  iptables -w -t mangle -X "$GUARD_CHAIN" 2>/dev/null || true
  ip route del "$SERVICE_NETWORK" 2>/dev/null || true
  for n in $(seq 1 "$NODE_COUNT"); do ip link del "$(node_bridge "$n")" 2>/dev/null || true; done
  # veths left by pods that were never CNI-DELeted go with their netns; stray ones are named veth* on our bridges only.
  if [ -f "$STATE/nodes/sysctl.saved" ]; then
    local line; while read -r line; do sysctl -qw "$line" || true; done < "$STATE/nodes/sysctl.saved"
    rm -f "$STATE/nodes/sysctl.saved"
  fi
}

# --- identities ---------------------------------------------------------------------------------------------------

# Token users for the nodes, kube-proxy and kube-scheduler (appended to the API server's token file by cluster.sh).
node_token_lines() {
  local n
  for n in $(seq 1 "$NODE_COUNT"); do
    [ -f "$STATE/node-$n.token" ] || random_token > "$STATE/node-$n.token"
    printf '%s,system:node:%s,node-%s,"system:nodes"\n' "$(node_token "$n")" "$(node_name "$n")" "$n"
  done
  [ -f "$STATE/kube-proxy.token" ] || random_token > "$STATE/kube-proxy.token"
  [ -f "$STATE/kube-scheduler.token" ] || random_token > "$STATE/kube-scheduler.token"
  printf '%s,system:kube-proxy,kube-proxy\n' "$(cat "$STATE/kube-proxy.token")"
  printf '%s,system:kube-scheduler,kube-scheduler\n' "$(cat "$STATE/kube-scheduler.token")"
  chmod 0600 "$STATE"/*.token
}

write_kubeconfig() { # $1 file, $2 user, $3 token
  cat > "$1" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: xks-local
  cluster: {server: "https://$API_NODE_ADDRESS:$API_PORT", certificate-authority: "$STATE/pki/ca.crt"}
users:
- name: $2
  user: {token: "$3"}
contexts:
- name: xks-local
  context: {cluster: xks-local, user: $2}
current-context: xks-local
KCFG
  chmod 0600 "$1"
}

# The API server's client certificate towards kubelets (logs, exec, port-forward): kubelets trust only the local CA.
kubelet_client_pki() {
  local pki="$STATE/pki"
  [ -f "$pki/kubelet-client.crt" ] && return
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
    -keyout "$pki/kubelet-client.key" -out "$pki/kubelet-client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > "$pki/client.ext"
  openssl x509 -req -in "$pki/kubelet-client.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
    -extfile "$pki/client.ext" -out "$pki/kubelet-client.crt" 2>/dev/null
  chmod 0600 "$pki/kubelet-client.key"
}

# --- per node -----------------------------------------------------------------------------------------------------

containerd_up() {
  local n=$1 dir; dir="$(node_dir "$n")"
  mkdir -p "$dir/containerd" "$dir/cni/net.d" "$dir/cni/ipam" "$dir/runc"
  cat > "$dir/containerd.toml" <<TOML
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$dir/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
TOML
  cat > "$dir/cni/net.d/10-xks.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "$(node_name "$n")",
  "plugins": [{
    "type": "bridge", "bridge": "$(node_bridge "$n")",
    "isGateway": true, "isDefaultGateway": false, "ipMasq": false, "hairpinMode": true,
    "ipam": {
      "type": "host-local", "dataDir": "$dir/cni/ipam",
      "ranges": [[{"subnet": "10.244.$n.0/24", "rangeStart": "10.244.$n.10", "rangeEnd": "10.244.$n.250", "gateway": "$(node_ip "$n")"}]],
      "routes": [{"dst": "$SERVICE_NETWORK"}, {"dst": "$POD_NETWORK"}]
    }
  }]
}
JSON
  setsid containerd --config "$dir/containerd.toml" >"$STATE/logs/containerd-$n.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! > "$STATE/containerd-$n.pid"
  local i
  for i in $(seq 1 100); do ctr -a "$dir/containerd.sock" version >/dev/null 2>&1 && return; sleep 0.1; done
  tail -n 20 "$STATE/logs/containerd-$n.log" >&2; die "containerd of $(node_name "$n") did not start"
}

kubelet_up() {
  local n=$1 dir; dir="$(node_dir "$n")"
  mkdir -p "$dir/kubelet" "$dir/volume-plugins"
  write_kubeconfig "$dir/kubelet.kubeconfig" "system:node:$(node_name "$n")" "$(node_token "$n")"
  printf 'nameserver 127.0.0.1\n' > "$STATE/nodes/resolv.conf"
  cat > "$dir/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(node_ip "$n")
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $((10247 + n * 10))
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "$STATE/pki/ca.crt"}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
resolvConf: "$STATE/nodes/resolv.conf"
clusterDomain: cluster.local
volumePluginDir: "$dir/volume-plugins"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
serializeImagePulls: false
maxPods: 40
nodeStatusUpdateFrequency: 4s
YAML
  # AWS_EC2_METADATA_DISABLED: belt and braces next to the removed ECR credential provider (see build_control_plane).
  setsid env AWS_EC2_METADATA_DISABLED=true "$BIN/kubelet" --config "$dir/kubelet.yaml" \
    --kubeconfig "$dir/kubelet.kubeconfig" --root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki" \
    --container-runtime remote --container-runtime-endpoint "unix://$dir/containerd.sock" \
    --image-service-endpoint "unix://$dir/containerd.sock" --runtime-request-timeout 2m \
    --hostname-override "$(node_name "$n")" --node-ip "$(node_ip "$n")" \
    --node-labels "topology.kubernetes.io/zone=zone-$n" --pod-infra-container-image "$PAUSE_IMAGE" \
    >"$STATE/logs/kubelet-$n.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! > "$STATE/kubelet-$n.pid"
}

scheduler_up() {
  write_kubeconfig "$STATE/nodes/scheduler.kubeconfig" system:kube-scheduler "$(cat "$STATE/kube-scheduler.token")"
  setsid "$BIN/kube-scheduler" --kubeconfig "$STATE/nodes/scheduler.kubeconfig" --leader-elect=false \
    --bind-address 127.0.0.1 --secure-port 0 --port 0 \
    >"$STATE/logs/kube-scheduler.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! > "$STATE/kube-scheduler.pid"
}

kube_proxy_up() {
  write_kubeconfig "$STATE/nodes/kube-proxy.kubeconfig" system:kube-proxy "$(cat "$STATE/kube-proxy.token")"
  setsid "$BIN/kube-proxy" --kubeconfig "$STATE/nodes/kube-proxy.kubeconfig" --proxy-mode iptables \
    --hostname-override "$(node_name 1)" --cluster-cidr "$POD_NETWORK" --nodeport-addresses "$POD_NETWORK" \
    --conntrack-max-per-core 0 --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 \
    --healthz-bind-address 127.0.0.1:10256 --metrics-bind-address 127.0.0.1:10249 \
    >"$STATE/logs/kube-proxy.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! > "$STATE/kube-proxy.pid"
}

# Starts both nodes (the control plane already runs, listening on $API_NODE_ADDRESS) and waits until they are Ready.
nodes_up() {
  local archive n i; archive="$(pause_archive)"
  scheduler_up
  for n in $(seq 1 "$NODE_COUNT"); do containerd_up "$n"; done
  import_images "$archive"
  # Both nodes' containers live in containerd's cgroup k8s.io (cgroupsPerQOS is off), which competes for CPU with every
  # host process (API server, etcd, kubelets, the tests' own clients) at the default weight of one process. A real
  # node gives its pods most of the CPU weight; so does this: 8 × the default (inside it, requests set the shares).
  # (cgroup v1 only: on a cgroup v2 host /sys/fs/cgroup/cpu would be a new cgroup, not the cpu controller.)
  [ ! -f /sys/fs/cgroup/cpu/cpu.shares ] || { mkdir -p /sys/fs/cgroup/cpu/k8s.io && echo 8192 > /sys/fs/cgroup/cpu/k8s.io/cpu.shares; } 2>/dev/null || true
  for n in $(seq 1 "$NODE_COUNT"); do kubelet_up "$n"; done
  kube_proxy_up
  for i in $(seq 1 300); do
    local ready; ready="$("$BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)"
    [ "$ready" -ge "$NODE_COUNT" ] && { log "nodes Ready: $(node_names)"; return; }
    for n in $(seq 1 "$NODE_COUNT"); do
      pid_alive "$STATE/kubelet-$n.pid" || { tail -n 30 "$STATE/logs/kubelet-$n.log" >&2; die "kubelet of $(node_name "$n") exited"; }
    done
    sleep 0.5
  done
  die "nodes not Ready within 150 s; see $STATE/logs/kubelet-*.log"
}

node_names() { local n; for n in $(seq 1 "$NODE_COUNT"); do printf '%s ' "$(node_name "$n")"; done; }

# Stops one node the hard way (kubelet, then its containerd and every container shim of it): a node failure.
node_stop() {
  local n=$1 dir; dir="$(node_dir "$n")"
  stop_pid "kubelet-$n"
  kill_node_tasks "$n"
  stop_pid "containerd-$n"
  kill_node_shims "$n"
}

# Brings a stopped node back (containerd keeps its images; the kubelet re-registers).
node_start() {
  local n=$1
  pid_alive "$STATE/containerd-$n.pid" || containerd_up "$n"
  pid_alive "$STATE/kubelet-$n.pid" || kubelet_up "$n"
}

kill_node_tasks() {
  local n=$1 sock task; sock="$(node_socket "$n")"
  [ -S "$sock" ] || return 0
  for task in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
  done
  sleep 0.5
  for task in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks delete -f "$task" >/dev/null 2>&1 || true
  done
}

# containerd-shim-runc-v2 processes of this node (found by the node's containerd address on their command line).
kill_node_shims() {
  local n=$1 pid
  for pid in $(pgrep -f "containerd-shim.*-address $(node_socket "$n")" || true); do kill -9 "$pid" 2>/dev/null || true; done
  for pid in $(pgrep -f "containerd-shim.*$(node_dir "$n")" || true); do kill -9 "$pid" 2>/dev/null || true; done
}

nodes_down() {
  local n
  stop_pid kube-proxy
  [ -x "$BIN/kube-proxy" ] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  for n in $(seq 1 "$NODE_COUNT"); do stop_pid "kubelet-$n"; done
  for n in $(seq 1 "$NODE_COUNT"); do kill_node_tasks "$n"; stop_pid "containerd-$n"; kill_node_shims "$n"; done
  stop_pid kube-scheduler
  # The chains the kubelet made (kube-proxy --cleanup removed its own).
  local table chain
  for table in filter nat mangle; do
    for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-PROXY-CANARY KUBE-MARK-DROP KUBE-MARK-MASQ KUBE-POSTROUTING KUBE-FORWARD; do
      iptables -w -t "$table" -S 2>/dev/null | awk -v c="$chain" '$1 == "-A" && $0 ~ ("-j " c "( |$)") {print}' \
        | sed 's/^-A/-D/' | while read -r rule; do eval "iptables -w -t $table $rule" 2>/dev/null || true; done
      iptables -w -t "$table" -F "$chain" 2>/dev/null || true
      iptables -w -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
  # Mounts left under the nodes' dirs (pod volumes, netns, rootfs), deepest first.
  if [ -d "$STATE/nodes" ]; then
    awk -v p="$STATE/nodes/" 'index($2, p) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  fi
  network_down
  # Host paths both kubelets hard-code; the empty cgroups containerd made.
  # Only those this cluster created (a machine with a kubelet of its own keeps its own).
  if [ -f "$STATE/nodes/host-paths.created" ]; then
    local path; while read -r path; do rm -rf "$path"; done < "$STATE/nodes/host-paths.created"
  fi
  # (cgroup directories always hold control files, so not find -empty: rmdir, which refuses one still in use)
  find /sys/fs/cgroup/*/k8s.io -depth -type d -exec rmdir {} \; 2>/dev/null || true
  rm -rf "$STATE/nodes"
}
