#!/usr/bin/env bash
# A SoftHSM2 token for the standalone proxy (`make run BACKEND=pkcs11`), and the example keys inside it.
#
#   scripts/softhsm-token.sh [CONFIG]      CONFIG defaults to config/proxy/standalone-softhsm.yaml
#
# Everything lives under .data/softhsm (XKS_SOFTHSM_DIR overrides it):
#   softhsm2.conf   SoftHSM's own configuration (token directory below); export SOFTHSM2_CONF=<it> to use the token
#   tokens/         the token files
#   user-pin        the token's user PIN, random, 0600 (the config's pinFile points here); so-pin likewise
# Idempotent: an existing token and existing keys are kept. The keys are generated inside the token by the proxy's
# own admin command (`xks-proxy keys create ID`): AES-256, sensitive, not extractable. No PIN is ever printed.
# XKS_PROXY overrides how the proxy is run (default: build it, then `dotnet proxy/bin/Release/net10.0/xks-proxy.dll`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
config=$(realpath "${1:-$root/config/proxy/standalone-softhsm.yaml}")
dir=${XKS_SOFTHSM_DIR:-$root/.data/softhsm}
label=${XKS_SOFTHSM_LABEL:-xks-standalone}

command -v softhsm2-util >/dev/null || { echo "softhsm-token: softhsm2-util is missing; run 'make deps' (Debian package softhsm2)" >&2; exit 2; }
umask 077
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
export SOFTHSM2_CONF="$dir/softhsm2.conf"
if [ ! -f "$SOFTHSM2_CONF" ]; then
  cat > "$SOFTHSM2_CONF" <<CONF
# SoftHSM2 configuration of the standalone proxy's token (scripts/softhsm-token.sh)
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
fi

random_pin() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
for pin in user-pin so-pin; do
  [ -s "$dir/$pin" ] || random_pin > "$dir/$pin"
done

if softhsm2-util --show-slots | grep -Eq "^[[:space:]]*Label:[[:space:]]+$label[[:space:]]*$"; then
  echo "softhsm-token: token '$label' exists in $dir/tokens"
else
  softhsm2-util --init-token --free --label "$label" --so-pin "$(cat "$dir/so-pin")" --pin "$(cat "$dir/user-pin")" >/dev/null
  echo "softhsm-token: initialised token '$label' in $dir/tokens (user PIN in $dir/user-pin)"
fi

if [ -n "${XKS_PROXY:-}" ]; then
  read -r -a proxy <<< "$XKS_PROXY"
else
  dotnet build "$root/proxy" -c Release -nologo -v:q >/dev/null
  proxy=(dotnet "$root/proxy/bin/Release/net10.0/xks-proxy.dll")
fi

# Every configured key the token lacks ("missing" in the STATE column of `keys list`) gets version 1.
listing=$("${proxy[@]}" keys list --config "$config")
for id in $(awk '$4 == "missing" { print $1 }' <<< "$listing"); do
  "${proxy[@]}" keys create "$id" --config "$config"
done
"${proxy[@]}" keys list --config "$config"
echo "softhsm-token: ready; the proxy needs SOFTHSM2_CONF=$SOFTHSM2_CONF"
