# Shared by scripts/demo.sh (the seed scenario on the control plane, proxy as a host process) and
# scripts/demo-cluster.sh (the same through real pods): output, process bookkeeping, the test CA and the seed steps.
# The caller sets DEMO (its state directory), PIDS (its pid file) and, for the seed steps, NS and a `client` function.
# shellcheck shell=bash

step=0
say() { step=$((step + 1)); printf '\n\033[1m%2d. %s\033[0m\n' "$step" "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf '\033[31merror: %s\033[0m\n' "$*" >&2; exit 1; }
record() { echo "$1 $2" >> "$PIDS"; }

# Stops the processes recorded in $PIDS (TERM, then KILL after 5 s).
stop_processes() {
  [ -f "$PIDS" ] || return 0
  while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      info "stopped $name (pid $pid)"
    fi
  done < "$PIDS"
  rm -f "$PIDS"
}

wait_for() { # $1 = what, $2 = seconds, rest = command that succeeds when ready
  local what=$1 seconds=$2; shift 2
  for _ in $(seq $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what not ready within $seconds s (logs: $DEMO/*.log)"
}

# A test CA and a server certificate for $1 (extra subjectAltName entries in $3) under directory $2: ca.crt, tls.crt,
# tls.key — what a public CA would issue to the Vault.
make_test_certificate() { # hostname, directory, extra SAN (e.g. ",IP:127.0.0.1")
  local host=$1 dir=$2 extra=${3:-}
  rm -rf "$dir"; mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=XKS demo CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s%s\n' "$host" "$extra" > "$dir/ext.cnf"
  openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 -extfile "$dir/ext.cnf" -out "$dir/tls.crt" 2>/dev/null
  chmod 600 "$dir"/*.key
}

token() { local t; t=$(head -c 64 /dev/urandom | base32 -w0 | tr -d '='); echo "${t:0:$1}"; }   # $1 characters of A-Z2-7

# The seed scenario's switch: $1 = the envelope, $2 = where to write the opened file, $3 = the original's sha256.
# Patches CloudKey payments-db off (decrypt must be refused within 15 s), then on (decrypt must work again, byte for
# byte, within 30 s). Uses the caller's `client` function and `k` (kubectl in the demo namespace).
seed_switch_off_and_on() {
  local envelope=$1 opened=$2 sha_original=$3 t0 refused="" done=""
  say "Switch the key OFF: kubectl patch cloudkey payments-db -p '{\"spec\":{\"enabled\":false}}'"
  rm -f "$opened"
  k patch cloudkey payments-db --type merge -p '{"spec":{"enabled":false}}' | sed 's/^/    /'
  t0=$(date +%s%N)
  for _ in $(seq 150); do
    if ! client decrypt --in "$envelope" --out "$opened" > "$DEMO/decrypt.out" 2>&1; then refused=1; break; fi
    sleep 0.1
  done
  [ -n "$refused" ] || die "decrypt still works 15 s after the switch"
  info "decrypt refused $(( ($(date +%s%N) - t0) / 1000000 )) ms after the patch (the client's start-up included):"
  sed 's/^/      /' "$DEMO/decrypt.out"
  rm -f "$opened"
  info "the image cannot be opened: only KMS can unwrap its data key, and the proxy refuses the key"

  say "Switch the key ON again: kubectl patch cloudkey payments-db -p '{\"spec\":{\"enabled\":true}}'"
  k patch cloudkey payments-db --type merge -p '{"spec":{"enabled":true}}' | sed 's/^/    /'
  t0=$(date +%s%N)
  for _ in $(seq 300); do
    if client decrypt --in "$envelope" --out "$opened" > "$DEMO/decrypt.out" 2>&1; then done=1; break; fi
    sleep 0.1
  done
  [ -n "$done" ] || { cat "$DEMO/decrypt.out"; die "decrypt still refused 30 s after the switch back"; }
  [ "$(sha256sum "$opened" | cut -d' ' -f1)" = "$sha_original" ] || die "the decrypted image differs from the original"
  info "decrypts again $(( ($(date +%s%N) - t0) / 1000000 )) ms after the patch: $opened"
  info "sha256 $sha_original — byte for byte the original"
  k wait --for=condition=Ready cloudkey/payments-db --timeout=60s >/dev/null || true
}
