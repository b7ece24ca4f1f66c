#!/usr/bin/env bash
# Container images of the operator and the proxy without Docker or a registry: buildah (daemonless) builds
# operator/Dockerfile and proxy/Dockerfile, the same files `docker build` uses, and writes OCI archives that
# `ctr -n k8s.io images import FILE` loads into a node's containerd.
#
#   scripts/images.sh [build]   publish both apps on the host (self-contained, linux-x64), build the images on a
#                               local base and write artifacts/images/xks-operator.tar and xks-proxy.tar
#                               (make images); nothing is rebuilt when nothing changed
#   scripts/images.sh push      build (if needed), then push both images with buildah to
#                               docker://$REGISTRY/xks-NAME:VERSION (make push REGISTRY=ghcr.io/acme); log in first
#                               (buildah login ghcr.io) or point REGISTRY_AUTH_FILE at a credentials file
#   scripts/images.sh check     unpack each archive with umoci and run its entrypoint as 65532:65532 in a
#                               read-only root (runc), no container engine needed
#   scripts/images.sh base      only (re)make the local base image localhost/xks-base:bookworm
#
# Names: $REGISTRY/xks-operator:$VERSION and $REGISTRY/xks-proxy:$VERSION, REGISTRY defaulting to localhost
# (REGISTRY=ghcr.io/acme gives ghcr.io/acme/xks-proxy:0.1.0); VERSION is the file VERSION at the repository root.
# The archive's index.json names the image with that full reference, which is the name `ctr images import` gives it.
#
# The official base images cannot be pulled here, so the Dockerfiles get build arguments: APP_FROM=host (the build
# context is the folder published on the host instead of an SDK stage) and BASE_IMAGE=localhost/xks-base:bookworm.
# That base is made once from Debian packages (debootstrap --variant=minbase bookworm with libicu72, libssl3 and
# ca-certificates), then stripped to what a self-contained .NET app loads: libc, libgcc_s, libstdc++, libssl3,
# libicu72, zlib, CA certificates and tzdata, with /etc/passwd and /etc/group entries for root and nonroot (65532),
# /tmp, and no shell, package manager or other program. Its root file system is cached as a tarball under
# ${XDG_CACHE_HOME:-~/.cache}/xks-operator/images and made again only when missing (or when BASE_RECIPE changes).
#
# Environment: REGISTRY, DOTNET (dotnet), DEBIAN_MIRROR (http://deb.debian.org/debian), STORAGE_DRIVER (buildah's
# storage driver, e.g. vfs where overlay is not available), PUSH_TLS_VERIFY=false for a plain-HTTP registry.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

VERSION="$(tr -d '[:space:]' < VERSION)"
[ -n "$VERSION" ] || { echo "images: VERSION is empty" >&2; exit 1; }
REGISTRY="${REGISTRY:-}"
REGISTRY="${REGISTRY%/}"
PREFIX="${REGISTRY:-localhost}"
REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
# The commit's time is every image's creation time and every added file's mtime: the same commit and the same
# published files give the same image, byte for byte.
EPOCH="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
SOURCE=https://github.com/xks-operator/xks-operator
DOTNET="${DOTNET:-dotnet}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
OUT="$ROOT/artifacts/images"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/xks-operator/images"
BASE_IMAGE=localhost/xks-base:bookworm
BASE_RECIPE=1  # bump when make_base_rootfs changes: the cached tarball and the stored base image are made again
BASE_TAR="$CACHE/xks-base-bookworm-r$BASE_RECIPE.tar"
APPS=(operator proxy)

log() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/apt.sh
. "$ROOT/scripts/lib/apt.sh"
image_name() { echo "$PREFIX/xks-$1:$VERSION"; }
csproj() { case "$1" in operator) echo operator/Xks.Operator.csproj ;; proxy) echo proxy/Xks.Proxy.csproj ;; esac; }

# buildah runs as root here (its storage in /var/lib/containers); rootless needs newuidmap and subuid ranges.
bah() { if [ "$(id -u)" = 0 ]; then buildah "$@"; else sudo -E buildah "$@"; fi; }

image_id() { bah inspect --type image --format '{{.FromImageID}}' "$1" 2>/dev/null || true; }

# ---------------------------------------------------------------------------------------------------------------
# The local base: debootstrap once, keep only the runtime libraries, cache the result as a tarball.

# Unmounts whatever debootstrap left mounted below $1 (proc, sys) and removes it without crossing file systems.
remove_tree() {
  local dir="$1" m
  [ -e "$dir" ] || return 0
  for m in $(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r); do sudo_if_needed umount -l "$m" || true; done
  sudo_if_needed rm -rf --one-file-system "$dir"
}

# The files the kept packages installed (directories left out; /bin, /lib, /lib64 and /sbin are merged into /usr).
package_files() {
  local rootfs="$1" pkg list
  shift
  for pkg in "$@"; do
    list="$rootfs/var/lib/dpkg/info/$pkg:amd64.list"
    [ -f "$list" ] || list="$rootfs/var/lib/dpkg/info/$pkg.list"
    [ -f "$list" ] || continue
    sed -E 's#^/(bin|sbin|lib|lib64)/#/usr/\1/#' "$list"
  done | sort -u | while IFS= read -r f; do
    case "$f" in
      /lib|/lib64|/bin|/sbin) continue ;;                                 # the merged-usr links exist already
      /usr/share/doc/*/examples/*) continue ;;
      /usr/share/doc/*/copyright) ;;                                      # licences stay
      /usr/share/doc/*|/usr/share/man/*|/usr/share/info/*|/usr/share/lintian/*|/usr/share/locale/*) continue ;;
      /usr/share/bug/*|/usr/share/gcc/*|/usr/share/gdb/*|/usr/sbin/*|/usr/bin/*) continue ;;
      /usr/lib/x86_64-linux-gnu/gconv/*) continue ;;                     # iconv modules: .NET does not use them
      /etc/ca-certificates.conf|/etc/ssl/*) continue ;;                   # /etc/ssl is copied whole below
    esac
    if [ -L "$rootfs$f" ] || [ -f "$rootfs$f" ]; then echo "${f#/}"; fi
  done
}

make_base_rootfs() {
  apt_packages debootstrap
  mkdir -p "$CACHE"
  local work
  work="$(mktemp -d "$CACHE/base.XXXXXX")"
  # shellcheck disable=SC2064
  trap "remove_tree '$work'" EXIT
  log "debootstrap bookworm (minbase + libicu72 libssl3 ca-certificates) from $DEBIAN_MIRROR; about 2 minutes, once"
  sudo_if_needed debootstrap --variant=minbase --include=libicu72,libssl3,ca-certificates bookworm \
    "$work/full" "$DEBIAN_MIRROR" > "$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

  log "stripping it to the runtime libraries (no shell, no package manager)"
  local full="$work/full" slim="$work/slim"
  mkdir -p "$slim"/{etc,usr/lib,usr/lib64,tmp,var/tmp,home/nonroot,proc,sys,dev,run}
  ln -s usr/lib "$slim/lib"
  ln -s usr/lib64 "$slim/lib64"
  package_files "$full" libc6 libgcc-s1 libstdc++6 libssl3 libicu72 zlib1g ca-certificates tzdata > "$work/files"
  (cd "$full" && tar --no-recursion -cf - -T "$work/files" usr/lib/os-release etc/os-release etc/debian_version \
      etc/ssl etc/ssl/certs etc/ssl/private etc/ssl/openssl.cnf etc/ssl/certs/* \
      usr/lib/ssl/cert.pem usr/lib/ssl/certs usr/lib/ssl/openssl.cnf usr/lib/ssl/private \
      etc/localtime etc/timezone etc/ld.so.conf etc/ld.so.conf.d/*) \
    | (cd "$slim" && tar --keep-directory-symlink -xpf -)
  cat > "$slim/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat > "$slim/etc/group" <<'EOF'
root:x:0:
nonroot:x:65532:
EOF
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n' \
    > "$slim/etc/nsswitch.conf"
  chmod 1777 "$slim/tmp" "$slim/var/tmp"
  chown 65532:65532 "$slim/home/nonroot"
  chmod 0755 "$slim/home/nonroot"
  ldconfig -r "$slim"
  local leftovers
  leftovers="$(cd "$slim" && find . -type f \( -perm -u+x -o -perm -g+x -o -perm -o+x \) ! -name '*.so*' | head -n5)"
  [ -z "$leftovers" ] || die "the stripped base still has programs: $leftovers"

  tar --numeric-owner --sort=name -C "$slim" -cf "$BASE_TAR.tmp" .
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  log "base root file system cached: $BASE_TAR ($(du -m "$BASE_TAR" | cut -f1) MB; full debootstrap was $(sudo_if_needed du -sxm "$full" | cut -f1) MB)"
  remove_tree "$work"
  trap - EXIT
}

ensure_base() {
  local have
  have="$(bah inspect --type image --format '{{index .OCIv1.Config.Labels "dev.xks.base.recipe"}}' "$BASE_IMAGE" 2>/dev/null || true)"
  if [ -z "${1:-}" ]; then
    [ "$have" = "$BASE_RECIPE" ] && return 0
    [ -s "$BASE_TAR" ] || make_base_rootfs
  else
    make_base_rootfs
  fi
  log "importing $BASE_TAR as $BASE_IMAGE"
  local ctr old
  old="$(image_id "$BASE_IMAGE")"
  ctr="$(bah from --pull=never scratch)"
  bah add "$ctr" "$BASE_TAR" / >/dev/null
  bah config --os linux --arch amd64 \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label dev.xks.base.recipe="$BASE_RECIPE" \
    --label org.opencontainers.image.description="Debian 12 runtime libraries for self-contained .NET apps; no shell, no package manager" \
    "$ctr"
  # Created when the cached tarball was: importing the same tarball again gives the same image.
  bah commit --quiet --rm --timestamp "$(stat -c %Y "$BASE_TAR")" "$ctr" "$BASE_IMAGE" >/dev/null
  if [ -n "$old" ] && [ "$old" != "$(image_id "$BASE_IMAGE")" ]; then bah rmi "$old" >/dev/null 2>&1 || true; fi
}

# ---------------------------------------------------------------------------------------------------------------
# The apps and their images.

publish() {
  local app="$1"
  # A fresh folder, so nothing stale reaches the image; --artifacts-path keeps this publish's obj/ apart from the
  # bin/ and obj/ that builds and tests use (and keeps its incremental build). 9>&-: build servers that outlive the
  # publish must not hold the lock.
  rm -rf "$OUT/publish/$app"
  "$DOTNET" publish "$(csproj "$app")" -c Release -r linux-x64 --self-contained -p:UseAppHost=true -p:PublishReadyToRun=true \
    -p:Version="$VERSION" --artifacts-path "$OUT/build" -o "$OUT/publish/$app" -nologo -v:q 9>&- \
    || die "dotnet publish $app failed"
}

# Everything an image is made of; the same fingerprint means the archive on disk is up to date.
fingerprint() {
  local app="$1"
  {
    echo "$(image_name "$app") $VERSION $REVISION $EPOCH $(image_id "$BASE_IMAGE") $(buildah --version)"
    sha256sum "$app/Dockerfile"
    (cd "$OUT/publish/$app" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

# Megabytes of the archive and of the uncompressed layers.
sizes() {
  local archive="$1" manifest layer total=0 n
  manifest="$(tar -xOf "$archive" index.json | jq -r '.manifests[0].digest' | sed 's#:#/#')"
  for layer in $(tar -xOf "$archive" "blobs/$manifest" | jq -r '.layers[].digest' | sed 's#:#/#'); do
    n="$(tar -xOf "$archive" "blobs/$layer" | gzip -dc | wc -c)"
    total=$((total + n))
  done
  awk -v a="$(stat -c %s "$archive")" -v u="$total" 'BEGIN { printf "%.1f MB archive, %.1f MB uncompressed", a/1048576, u/1048576 }'
}

build_image() {
  local app="$1" image archive stamp fp old new
  image="$(image_name "$app")"
  archive="$OUT/xks-$app.tar"
  stamp="$OUT/.xks-$app.stamp"
  fp="$(fingerprint "$app")"
  old="$(image_id "$image")"
  if [ -s "$archive" ] && [ -f "$stamp" ] && [ -n "$old" ] && [ "$(sed -n 1p "$stamp")" = "$fp $old" ]; then
    printf '  %-36s up to date  %s  %s\n' "$image" "${archive#"$ROOT"/}" "$(sed -n 2p "$stamp")"
    return 0
  fi
  log "building $image"
  bah bud --quiet --pull=never --timestamp "$EPOCH" -f "$app/Dockerfile" -t "$image" \
    --build-arg APP_FROM=host --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
    --annotation org.opencontainers.image.title="xks-$app" \
    --annotation org.opencontainers.image.version="$VERSION" \
    --annotation org.opencontainers.image.revision="$REVISION" \
    --annotation org.opencontainers.image.source="$SOURCE" --build-arg SOURCE="$SOURCE" \
    --annotation org.opencontainers.image.licenses=Apache-2.0 \
    "$OUT/publish/$app" >/dev/null
  new="$(image_id "$image")"
  # The previous build of this name, now untagged, goes (it stays while another tag still uses it).
  if [ -n "$old" ] && [ "$old" != "$new" ]; then bah rmi "$old" >/dev/null 2>&1 || true; fi
  rm -f "$archive.tmp"
  bah push --quiet "$image" "oci-archive:$archive.tmp:$image" >/dev/null
  mv "$archive.tmp" "$archive"
  printf '%s %s\n%s\n' "$fp" "$new" "$(sizes "$archive")" > "$stamp"
  printf '  %-36s built       %s  %s\n' "$image" "${archive#"$ROOT"/}" "$(sed -n 2p "$stamp")"
}

cmd_build() {
  apt_packages buildah debootstrap umoci skopeo jq
  command -v "$DOTNET" >/dev/null || die "$DOTNET not found (the .NET 10 SDK publishes the apps)"
  mkdir -p "$OUT"
  ensure_base
  local app
  for app in "${APPS[@]}"; do
    log "publishing $app (self-contained, linux-x64, version $VERSION)"
    publish "$app"
  done
  echo "images (base $BASE_IMAGE):"
  for app in "${APPS[@]}"; do build_image "$app"; done
}

cmd_push() {
  [ -n "$REGISTRY" ] || die "set REGISTRY, e.g. make push REGISTRY=ghcr.io/acme (log in first: buildah login ghcr.io)"
  cmd_build
  local app image
  for app in "${APPS[@]}"; do
    image="$(image_name "$app")"
    [ -n "$(image_id "$image")" ] || die "$image is not built: make images REGISTRY=$REGISTRY"
    log "pushing $image"
    bah push --tls-verify="${PUSH_TLS_VERIFY:-true}" --digestfile "$OUT/.xks-$app.digest" "$image" "docker://$image"
    echo "  $image@$(cat "$OUT/.xks-$app.digest")"
  done
}

# Writes the bundle's runtime config: the image's entrypoint with ARGS..., its user (65532:65532) and environment, a
# read-only root; $JQ_EXTRA holds further jq edits.
bundle_config() {
  local bundle="$1" args
  shift
  args="$(printf '%s\n' "$@" | jq -R . | jq -cs .)"
  jq --argjson args "$args" '.process.args = ([.process.args[0]] + $args) | .process.terminal = false
    | .root.readonly = true '"${JQ_EXTRA:-}" "$bundle/config.base.json" > "$bundle/config.json"
}

run_in_bundle() {
  local bundle="$1"
  shift
  bundle_config "$bundle" "$@"
  sudo_if_needed runc run --bundle "$bundle" "xks-check-$$-$RANDOM" < /dev/null
}

cmd_check() {
  apt_packages umoci skopeo runc jq curl
  local app image archive work bundle out line status=0
  for app in "${APPS[@]}"; do
    image="$(image_name "$app")"
    archive="$OUT/xks-$app.tar"
    [ -s "$archive" ] || die "$archive is missing: make images"
    work="$(mktemp -d)"
    bundle="$work/bundle"
    echo "== $image (${archive#"$ROOT"/}: $(sed -n 2p "$OUT/.xks-$app.stamp" 2>/dev/null))"
    skopeo copy --quiet "oci-archive:$archive" "oci:$work/layout:check"
    sudo_if_needed umoci unpack --image "$work/layout:check" "$bundle" >/dev/null
    mv "$bundle/config.json" "$bundle/config.base.json"
    echo "   process: $(jq -c '.process.args' "$bundle/config.base.json"), user $(jq -c '.process.user' "$bundle/config.base.json")"
    echo "   /bin/sh: $(if [ -e "$bundle/rootfs/bin/sh" ] || [ -L "$bundle/rootfs/bin/sh" ]; then echo present; else echo absent; fi);" \
      "executables outside /app: $(cd "$bundle/rootfs" && find . -path ./app -prune -o -type f -perm /111 ! -name '*.so*' -print | wc -l);" \
      "dpkg/apt: $(find "$bundle/rootfs/usr/bin" -maxdepth 1 \( -name dpkg -o -name apt \) 2>/dev/null | wc -l)"
    if out="$(run_in_bundle "$bundle" --help 2>&1)"; then
      echo "   runc, read-only root, --help: $(head -n1 <<< "$out")"
    else
      status=1; echo "   --help failed:"; while IFS= read -r line; do echo "     $line"; done <<< "$out"
    fi
    if [ "$app" = proxy ]; then
      out="$(run_in_bundle "$bundle" --version 2>&1)" || status=1
      echo "   runc, read-only root, --version: $out"
      check_proxy_serves "$bundle" "$work" || status=1
    fi
    remove_tree "$work"
  done
  [ "$status" = 0 ] && echo "check: both images start as 65532:65532 from a read-only root" || echo "check: FAILED"
  return $status
}

# The proxy serving from the image: host network (loopback only), read-only root, the config mounted read-only and
# a tmpfs for the software key store; /health over SigV4 like KMS calls it, the process's uid from /proc.
check_proxy_serves() {
  local bundle="$1" work="$2" port metrics id="xks-check-serve-$$" pid health=""
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18743)"
  metrics=$((port + 1))
  mkdir -p "$work/config"
  sed -e "s/^  port: .*/  port: $port/" -e "s/^  metricsPort: .*/  metricsPort: $metrics/" \
    -e "s#^    dataDir: .*#    dataDir: /data#" "$ROOT/config/proxy/standalone.yaml" > "$work/config/proxy.yaml"
  chmod 0755 "$work" "$work/config"; chmod 0644 "$work/config/proxy.yaml"
  local JQ_EXTRA='| .linux.namespaces |= map(select(.type != "network"))
    | .mounts += [{destination: "/config", type: "bind", source: "'"$work/config"'", options: ["rbind", "ro"]},
                  {destination: "/data", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=0700", "uid=65532", "gid=65532"]}]'
  bundle_config "$bundle" serve --config /config/proxy.yaml
  sudo_if_needed runc run --detach --bundle "$bundle" "$id" > "$work/serve.log" 2>&1 < /dev/null
  for _ in $(seq 60); do
    health="$(curl -s --max-time 2 --aws-sigv4 'aws:amz:us-east-1:kms-xks-proxy' \
      --user 'BETWEEN2TENAND3TENCHARACTERS:PleaseReplaceThisWithSomeSecretOfLength43To64' -H 'Content-Type: application/json' \
      -d '{"requestMetadata":{"kmsRequestId":"1","kmsOperation":"KmsHealthCheck"}}' \
      "http://127.0.0.1:$port/example/uri/path/prefix/kms/xks/v1/health" 2>/dev/null || true)"
    [ -n "$health" ] && break
    sleep 0.5
  done
  pid="$(sudo_if_needed runc state "$id" 2>/dev/null | jq -r '.pid // empty')"
  echo "   runc, read-only root, serve: pid $pid $(grep -E '^(Uid|Gid):' "/proc/$pid/status" 2>/dev/null | tr -s '\t' ' ' | tr '\n' ' ')"
  echo "   POST /health (SigV4) -> ${health:-no answer}"
  sudo_if_needed runc kill "$id" TERM 2>/dev/null || true
  for _ in $(seq 50); do [ "$(sudo_if_needed runc state "$id" 2>/dev/null | jq -r .status)" = stopped ] && break; sleep 0.2; done
  sudo_if_needed runc delete --force "$id" >/dev/null 2>&1 || true
  [ -n "$health" ] || { echo "   serve log:"; sed 's/^/     /' "$work/serve.log"; return 1; }
}

# One run at a time (make images from a demo while another one builds): they share artifacts/images and the tags.
lock() {
  mkdir -p "$OUT"
  exec 9> "$OUT/.lock"
  flock -n 9 || { log "waiting for another scripts/images.sh to finish"; flock 9; }
}

case "${1:-build}" in
  build) lock; cmd_build ;;
  push) lock; cmd_push ;;
  check) lock; cmd_check ;;
  base) lock; apt_packages buildah debootstrap; ensure_base force ;;
  *) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
