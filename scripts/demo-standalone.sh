#!/usr/bin/env bash
# The HYOK switch on a standalone proxy, with nothing but curl: encrypt, switch the key off in the config,
# watch decrypt fail at once, switch it on again, decrypt. (The AWS end-to-end demo arrives with the operator.)
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
port=${DEMO_PORT:-18080}
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

akid=DEMODEMODEMODEMODEMO2345
secret=$(openssl rand -base64 32)
prefix=/demo/kms-keystore
write_config() { # $1 = true|false (is key "demo" enabled?)
  cat > "$work/config.yaml.tmp" <<YAML
regions: [us-east-1]
server: { address: 127.0.0.1, port: $port, metricsPort: 0, reloadIntervalSeconds: 0.5 }
audit: { file: $work/audit.log }
keyStores:
  - name: demo
    uriPathPrefix: $prefix
    credentials: [ { accessKeyId: $akid, secretAccessKey: "$secret" } ]
    keys: [ { id: demo, usage: [ENCRYPT, DECRYPT], enabled: $1 } ]
backend: { software: { dataDir: $work/data } }
YAML
  mv "$work/config.yaml.tmp" "$work/config.yaml"
}
xks() { # $1 = route after /kms/xks/v1/, $2 = JSON body
  curl -s --aws-sigv4 "aws:amz:us-east-1:kms-xks-proxy" --user "$akid:$secret" \
    -H "Content-Type: application/json" -d "$2" "http://127.0.0.1:$port$prefix/kms/xks/v1/$1"
}
field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
meta() { echo '"requestMetadata":{"kmsRequestId":"'"$(uuidgen)"'","kmsOperation":"'"$1"'","awsPrincipalArn":"arn:aws:iam::111122223333:user/demo","kmsKeyArn":"arn:aws:kms:us-east-1:111122223333:key/demo"}'; }

echo "==> building the proxy"
dotnet build proxy -c Release -nologo -v:q >/dev/null
write_config true
dotnet proxy/bin/Release/net10.0/xks-proxy.dll --config "$work/config.yaml" > "$work/proxy.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break; sleep 0.2; done

secret_text="the S3 object key of a photo"
echo "==> encrypt '$secret_text' with key 'demo'"
enc=$(xks keys/demo/encrypt "{$(meta Encrypt),\"plaintext\":\"$(printf %s "$secret_text" | base64 -w0)\",\"encryptionAlgorithm\":\"AES_GCM\",\"ciphertextDataIntegrityValueAlgorithm\":\"SHA_256\"}")
echo "    $enc"
dec_body() { echo "{$(meta Decrypt),\"ciphertext\":\"$(field ciphertext <<<"$enc")\",\"initializationVector\":\"$(field initializationVector <<<"$enc")\",\"authenticationTag\":\"$(field authenticationTag <<<"$enc")\",\"ciphertextMetadata\":\"$(field ciphertextMetadata <<<"$enc")\",\"encryptionAlgorithm\":\"AES_GCM\"}"; }
echo "==> decrypt: $(xks keys/demo/decrypt "$(dec_body)" | field plaintext | base64 -d)"

echo "==> switch the key OFF (enabled: false) — the data becomes unreadable"
write_config false; sleep 1.5
echo "    decrypt now answers: $(xks keys/demo/decrypt "$(dec_body)")"

echo "==> switch the key ON again"
write_config true; sleep 1.5
echo "==> decrypt: $(xks keys/demo/decrypt "$(dec_body)" | field plaintext | base64 -d)"
echo "==> audit log (one line per request):"
sed 's/^/    /' "$work/audit.log"
