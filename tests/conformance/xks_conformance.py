#!/usr/bin/env python3
"""Conformance client for the AWS KMS External Key Store (XKS) proxy API v1.

Sends the requests AWS KMS sends (JSON over HTTP(S), SigV4-signed for service ``kms-xks-proxy``) plus the broken
ones a proxy must refuse, and checks every answer against the XKS proxy API specification (v1.0.3): status codes,
error names, response fields and sizes, the ciphertext data integrity value, tamper detection, key usage and state,
SigV4 failures and size limits.

Only the Python standard library and botocore (Debian: python3-botocore) are used. Prints ``PASS name``,
``FAIL name: expected X got Y`` or ``SKIP name: reason`` per case, then a summary; exits 1 if any case failed,
2 on bad usage.
"""

import argparse
import base64
import datetime
import hashlib
import http.client
import json
import os
import ssl
import sys
import urllib.parse
import uuid

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:  # pragma: no cover - depends on the machine
    sys.stderr.write("xks_conformance: botocore is required (Debian: apt-get install python3-botocore)\n")
    sys.exit(2)

SERVICE = "kms-xks-proxy"
PRINCIPAL = "arn:aws:iam::123456789012:user/Alice"
KEY_ARN = "arn:aws:kms:us-east-2:123456789012:/key/1234abcd-12ab-34cd-56ef-1234567890ab"
HEALTH_STATES = ("ACTIVE", "DEGRADED", "UNAVAILABLE")
SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"

# The spec's Encrypt example request, verbatim (plaintext "Hello World!", AAD "project=nile,department=marketing").
SPEC_ENCRYPT_EXAMPLE = {
    "requestMetadata": {
        "awsPrincipalArn": "arn:aws:iam::123456789012:user/Alice",
        "kmsKeyArn": "arn:aws:kms:us-east-2:123456789012:/key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "kmsOperation": "Encrypt",
        "kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae",
        "kmsViaService": "ebs",
    },
    "additionalAuthenticatedData": "cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n",
    "plaintext": "SGVsbG8gV29ybGQh",
    "encryptionAlgorithm": "AES_GCM",
    "ciphertextDataIntegrityValueAlgorithm": "SHA_256",
}


class CaseFailure(Exception):
    def __init__(self, expected, got):
        super().__init__(f"expected {expected} got {got}")
        self.expected = expected
        self.got = got


class NotApplicable(Exception):
    """The case cannot run against this proxy or with these arguments (printed as SKIP)."""


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.json = None
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            self.json = None

    @property
    def content_type(self):
        return self.headers.get("content-type", "")

    def describe(self):
        text = self.body[:300].decode("utf-8", "replace")
        return f"{self.status} {text!r}"


class FixedTimeSigV4Auth(SigV4Auth):
    """SigV4Auth signing with a given time instead of now (botocore's add_auth always stamps the current time)."""

    def __init__(self, credentials, service_name, region_name, when):
        super().__init__(credentials, service_name, region_name)
        self._when = when

    def add_auth(self, request):
        request.context["timestamp"] = self._when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, signature)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text, field):
    """Decodes strict standard Base64 (RFC 4648 section 4) or fails the case."""
    if not isinstance(text, str):
        raise CaseFailure(f"{field} as a Base64 string", repr(text))
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise CaseFailure(f"{field} in standard Base64", repr(text)) from None
    if b64(data) != text:
        raise CaseFailure(f"{field} in canonical standard Base64", repr(text))
    return data


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class XksConformance:
    def __init__(self, args):
        self.args = args
        self.base_url = args.url.rstrip("/")
        parsed = urllib.parse.urlsplit(self.base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise SystemExit(f"xks_conformance: --url must be http://host[:port] or https://host[:port], not {args.url!r}")
        self.scheme = parsed.scheme
        self.host = parsed.hostname
        self.port = parsed.port or (443 if self.scheme == "https" else 80)
        self.prefix = "/" + args.prefix.strip("/") if args.prefix.strip("/") else ""
        self.ssl_context = None
        if self.scheme == "https":
            self.ssl_context = ssl.create_default_context(cafile=args.ca_file) if args.ca_file else ssl.create_default_context()
        self._sample = None
        self.auth_failure_bodies = {}

    # ---- transport ----------------------------------------------------------------------------------------------

    def api_path(self, suffix):
        return f"{self.prefix}/kms/xks/v1/{suffix}"

    def send(self, method, path, body=None, *, sign=True, access_key_id=None, secret=None, region=None,
             service=SERVICE, when=None, send_body=None, content_type="application/json"):
        """Signs ``body`` (bytes, dict or None) and sends ``send_body`` if given (to test a body changed after signing)."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        body = body or b""
        headers = {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if sign:
            request = AWSRequest(method=method, url=self.base_url + path, data=body, headers=dict(headers))
            credentials = Credentials(access_key_id or self.args.access_key_id, secret or self.args.secret)
            region = region or self.args.region
            signer = FixedTimeSigV4Auth(credentials, service, region, when) if when else SigV4Auth(credentials, service, region)
            signer.add_auth(request)
            headers = {name: value for name, value in request.headers.items()}
        payload = send_body if send_body is not None else body
        if self.scheme == "https":
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.args.timeout, context=self.ssl_context)
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.args.timeout)
        try:
            connection.request(method, path, body=payload if method != "GET" or payload else None, headers=headers)
            raw = connection.getresponse()
            data = raw.read()
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)
        finally:
            connection.close()

    def post(self, suffix, body, **kwargs):
        return self.send("POST", self.api_path(suffix), body, **kwargs)

    # ---- request bodies -----------------------------------------------------------------------------------------

    @staticmethod
    def metadata(operation, *, key_arn=True, principal=True, **extra):
        md = {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": operation}
        if principal:
            md["awsPrincipalArn"] = PRINCIPAL
        if key_arn:
            md["kmsKeyArn"] = KEY_ARN
        md.update(extra)
        return md

    def health_body(self, operation="KmsHealthCheck"):
        return {"requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": operation}}

    def metadata_body(self, operation="CreateKey"):
        return {"requestMetadata": self.metadata(operation, key_arn=False)}

    def encrypt_body(self, plaintext, aad=None, cdiv=True, operation="Encrypt"):
        body = {"requestMetadata": self.metadata(operation), "plaintext": b64(plaintext), "encryptionAlgorithm": "AES_GCM"}
        if aad is not None:
            body["additionalAuthenticatedData"] = b64(aad)
        if cdiv:
            body["ciphertextDataIntegrityValueAlgorithm"] = "SHA_256"
        return body

    def decrypt_body(self, encrypted, aad=None, operation="Decrypt"):
        body = {
            "requestMetadata": self.metadata(operation),
            "ciphertext": encrypted["ciphertext"],
            "encryptionAlgorithm": "AES_GCM",
            "initializationVector": encrypted["initializationVector"],
            "authenticationTag": encrypted["authenticationTag"],
        }
        if "ciphertextMetadata" in encrypted:
            body["ciphertextMetadata"] = encrypted["ciphertextMetadata"]
        if aad is not None:
            body["additionalAuthenticatedData"] = b64(aad)
        return body

    # ---- expectations -------------------------------------------------------------------------------------------

    @staticmethod
    def expect_json_content_type(response):
        media = response.content_type.split(";")[0].strip().lower()
        if media != "application/json":
            raise CaseFailure("Content-Type application/json", repr(response.content_type) + " on " + response.describe())

    def expect_ok(self, response):
        if response.status != 200:
            raise CaseFailure("200", response.describe())
        self.expect_json_content_type(response)
        if not isinstance(response.json, dict):
            raise CaseFailure("a JSON object body", response.describe())
        return response.json

    def expect_error(self, response, status, *names):
        if response.status != status:
            raise CaseFailure(f"{status} {'/'.join(names)}", response.describe())
        self.expect_json_content_type(response)
        body = response.json
        if not isinstance(body, dict) or not isinstance(body.get("errorName"), str):
            raise CaseFailure("a JSON error body with errorName", response.describe())
        if body["errorName"] not in names:
            raise CaseFailure(f"{status} {'/'.join(names)}", f"{response.status} {body['errorName']}")
        message = body.get("errorMessage")
        if message is not None:
            if not isinstance(message, str):
                raise CaseFailure("errorMessage as a string", repr(message))
            if len(message) >= 512:
                raise CaseFailure("errorMessage under 512 characters", f"{len(message)} characters")
            if any(not (0x20 <= ord(c) <= 0x7E) for c in message):
                raise CaseFailure("errorMessage of printable ASCII only", repr(message))
        return body

    def expect_validation(self, response):
        return self.expect_error(response, 400, "ValidationException")

    def expect_invalid_ciphertext(self, response):
        return self.expect_error(response, 400, "InvalidCiphertextException")

    def expect_key_usage(self, response):
        return self.expect_error(response, 400, "InvalidKeyUsageException")

    def expect_auth_failure(self, response, case):
        self.expect_error(response, 401, "AuthenticationFailedException")
        self.auth_failure_bodies[case] = response.body

    def check_encrypt_response(self, body, plaintext, aad, cdiv):
        ciphertext = unb64(body.get("ciphertext"), "ciphertext")
        iv = unb64(body.get("initializationVector"), "initializationVector")
        tag = unb64(body.get("authenticationTag"), "authenticationTag")
        if len(ciphertext) != len(plaintext):
            raise CaseFailure(f"ciphertext of {len(plaintext)} bytes (the plaintext length)", f"{len(ciphertext)} bytes")
        if len(iv) not in (12, 16):
            raise CaseFailure("initializationVector of 12 (or 16) bytes", f"{len(iv)} bytes")
        if len(tag) != 16:
            raise CaseFailure("authenticationTag of 16 bytes", f"{len(tag)} bytes")
        metadata = b""
        if "ciphertextMetadata" in body:
            metadata = unb64(body["ciphertextMetadata"], "ciphertextMetadata")
            if len(metadata) > 20:
                raise CaseFailure("ciphertextMetadata of at most 20 bytes", f"{len(metadata)} bytes")
        if cdiv:
            if "ciphertextDataIntegrityValue" not in body:
                raise CaseFailure("ciphertextDataIntegrityValue (CDIV requested)", "no such field")
            got = unb64(body["ciphertextDataIntegrityValue"], "ciphertextDataIntegrityValue")
            expected = hashlib.sha256((aad or b"") + metadata + iv + ciphertext + tag).digest()
            if got != expected:
                raise CaseFailure("CDIV = SHA-256(AAD || ciphertextMetadata || IV || ciphertext || tag) = " + b64(expected), b64(got))
        elif "ciphertextDataIntegrityValue" in body:
            raise CaseFailure("no ciphertextDataIntegrityValue (not requested)", body["ciphertextDataIntegrityValue"])

    def encrypt(self, key, plaintext, aad=None, cdiv=True):
        body = self.expect_ok(self.post(f"keys/{key}/encrypt", self.encrypt_body(plaintext, aad, cdiv)))
        self.check_encrypt_response(body, plaintext, aad, cdiv)
        return body

    def decrypt_expect(self, key, encrypted, aad, plaintext):
        body = self.expect_ok(self.post(f"keys/{key}/decrypt", self.decrypt_body(encrypted, aad)))
        got = unb64(body.get("plaintext"), "plaintext")
        if got != plaintext:
            raise CaseFailure(f"plaintext {plaintext[:32]!r}...", f"{got[:32]!r}...")

    def sample(self):
        """One ciphertext under --key, with AAD, reused by the tamper and validation cases."""
        if self._sample is None:
            plaintext = b"conformance sample plaintext"
            aad = b"conformance sample aad"
            self._sample = (self.encrypt(self.args.key, plaintext, aad), plaintext, aad)
        return self._sample

    def require(self, attribute, option):
        value = getattr(self.args, attribute)
        if not value:
            raise NotApplicable(f"pass {option} to run this case")
        return value

    # ---- cases --------------------------------------------------------------------------------------------------

    def cases(self):
        a = self.args
        key = a.key
        cases = []

        def case(name):
            def register(fn):
                cases.append((name, fn))
                return fn
            return register

        # GetHealthStatus
        @case("health: required fields, types and ranges")
        def _():
            body = self.expect_ok(self.post("health", self.health_body()))
            size = body.get("xksProxyFleetSize")
            if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
                raise CaseFailure("xksProxyFleetSize integer > 0", repr(size))
            for field in ("xksProxyVendor", "xksProxyModel", "ekmVendor"):
                if not isinstance(body.get(field), str) or not body[field]:
                    raise CaseFailure(f"{field} non-empty string", repr(body.get(field)))
            fleet = body.get("ekmFleetDetails")
            if not isinstance(fleet, list) or not 1 <= len(fleet) <= 10:
                raise CaseFailure("ekmFleetDetails with 1 to 10 entries", repr(fleet))
            for entry in fleet:
                if not isinstance(entry, dict):
                    raise CaseFailure("ekmFleetDetails entries as objects", repr(entry))
                for field in ("id", "model"):
                    if not isinstance(entry.get(field), str) or not entry[field]:
                        raise CaseFailure(f"ekmFleetDetails[].{field} non-empty string", repr(entry))
                if entry.get("healthStatus") not in HEALTH_STATES:
                    raise CaseFailure("healthStatus ACTIVE, DEGRADED or UNAVAILABLE", repr(entry.get("healthStatus")))

        for operation in ("CreateCustomKeyStore", "ConnectCustomKeyStore", "UpdateCustomKeyStore", "SomeFutureKmsOperation"):
            @case(f"health: kmsOperation {operation} accepted")
            def _(operation=operation):
                self.expect_ok(self.post("health", self.health_body(operation)))

        @case("health: missing requestMetadata -> ValidationException")
        def _():
            self.expect_validation(self.post("health", {}))

        for field in ("kmsRequestId", "kmsOperation"):
            @case(f"health: missing requestMetadata.{field} -> ValidationException")
            def _(field=field):
                body = self.health_body()
                del body["requestMetadata"][field]
                self.expect_validation(self.post("health", body))

        # GetKeyMetadata
        @case("metadata: AES_256, ENCRYPT and DECRYPT, ENABLED")
        def _():
            body = self.expect_ok(self.post(f"keys/{key}/metadata", self.metadata_body()))
            if body.get("keySpec") != "AES_256":
                raise CaseFailure("keySpec AES_256", repr(body.get("keySpec")))
            usage = body.get("keyUsage")
            if not isinstance(usage, list) or "ENCRYPT" not in usage or "DECRYPT" not in usage or len(usage) > 10:
                raise CaseFailure("keyUsage containing ENCRYPT and DECRYPT, at most 10 values", repr(usage))
            if body.get("keyStatus") != "ENABLED":
                raise CaseFailure("keyStatus ENABLED", repr(body.get("keyStatus")))

        @case("metadata: older clients' kmsKeyArn and kmsViaService accepted")
        def _():
            body = {"requestMetadata": self.metadata("DescribeKey", kmsViaService="ebs")}
            self.expect_ok(self.post(f"keys/{key}/metadata", body))

        @case("metadata: disabled key reports DISABLED")
        def _():
            disabled = self.require("disabled_key", "--disabled-key")
            body = self.expect_ok(self.post(f"keys/{disabled}/metadata", self.metadata_body()))
            if body.get("keyStatus") != "DISABLED":
                raise CaseFailure("keyStatus DISABLED", repr(body.get("keyStatus")))

        for attribute, option, has_encrypt, has_decrypt in (
                ("encrypt_only_key", "--encrypt-only-key", True, False),
                ("decrypt_only_key", "--decrypt-only-key", False, True),
                ("no_usage_key", "--no-usage-key", False, False)):
            @case(f"metadata: {option[2:-4]} key usage")
            def _(attribute=attribute, option=option, has_encrypt=has_encrypt, has_decrypt=has_decrypt):
                special = self.require(attribute, option)
                body = self.expect_ok(self.post(f"keys/{special}/metadata", self.metadata_body()))
                usage = body.get("keyUsage")
                if not isinstance(usage, list) or ("ENCRYPT" in usage) != has_encrypt or ("DECRYPT" in usage) != has_decrypt:
                    wanted = " and ".join(u for u, on in (("ENCRYPT", has_encrypt), ("DECRYPT", has_decrypt)) if on) or "neither ENCRYPT nor DECRYPT"
                    raise CaseFailure(f"keyUsage with {wanted}", repr(usage))
                if body.get("keySpec") != "AES_256":
                    raise CaseFailure("keySpec AES_256", repr(body.get("keySpec")))

        @case("metadata: missing requestMetadata -> ValidationException")
        def _():
            self.expect_validation(self.post(f"keys/{key}/metadata", {}))

        for field in ("awsPrincipalArn", "kmsOperation", "kmsRequestId"):
            @case(f"metadata: missing requestMetadata.{field} -> ValidationException")
            def _(field=field):
                body = self.metadata_body()
                del body["requestMetadata"][field]
                self.expect_validation(self.post(f"keys/{key}/metadata", body))

        @case("metadata: unknown key -> 404 KeyNotFoundException")
        def _():
            self.expect_error(self.post("keys/no-such-key-7f3a/metadata", self.metadata_body()), 404, "KeyNotFoundException")

        # Encrypt and Decrypt: the spec example and round trips
        @case("encrypt: the spec's example request verbatim, with CDIV")
        def _():
            body = self.expect_ok(self.post(f"keys/{key}/encrypt", SPEC_ENCRYPT_EXAMPLE))
            self.check_encrypt_response(body, b"Hello World!", b"project=nile,department=marketing", cdiv=True)
            self.decrypt_expect(key, body, b"project=nile,department=marketing", b"Hello World!")

        @case("encrypt: without CDIV algorithm returns no CDIV")
        def _():
            self.encrypt(key, b"no integrity value", cdiv=False)

        @case("decrypt: round trip with AAD")
        def _():
            encrypted, plaintext, aad = self.sample()
            self.decrypt_expect(key, encrypted, aad, plaintext)

        @case("decrypt: round trip without AAD")
        def _():
            plaintext = os.urandom(32)
            self.decrypt_expect(key, self.encrypt(key, plaintext), None, plaintext)

        @case("encrypt: 4300-byte plaintext and 8192-byte AAD round trip")
        def _():
            plaintext, aad = os.urandom(4300), os.urandom(8192)
            self.decrypt_expect(key, self.encrypt(key, plaintext, aad), aad, plaintext)

        @case("encrypt: two encryptions of one plaintext differ (fresh IV)")
        def _():
            first = self.encrypt(key, b"same", cdiv=False)
            second = self.encrypt(key, b"same", cdiv=False)
            if first["initializationVector"] == second["initializationVector"]:
                raise CaseFailure("a fresh IV per Encrypt", "the same IV twice")

        @case("encrypt: unknown kmsOperation, unknown fields, VPC fields, 2048-char ARNs accepted")
        def _():
            body = self.encrypt_body(b"forward compatible", b"aad", operation="SomeFutureKmsOperation")
            md = body["requestMetadata"]
            md.update({"awsSourceVpc": "vpc-0123456789abcdef0", "awsSourceVpce": "vpce-0123456789abcdef0",
                       "kmsViaService": "ebs", "SourceIdentity": "someone", "kmsRecipientAttestationImageSha384": "ab" * 48,
                       "awsPrincipalArn": "arn:aws:iam::123456789012:role/" + "r" * (2048 - 31),
                       "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/" + "k" * (2048 - 39)})
            body["someFutureTopLevelField"] = {"nested": [1, 2, 3]}
            self.expect_ok(self.post(f"keys/{key}/encrypt", body))

        @case("decrypt: unknown kmsOperation and unknown fields accepted")
        def _():
            encrypted, plaintext, aad = self.sample()
            body = self.decrypt_body(encrypted, aad, operation="SomeFutureKmsOperation")
            body["requestMetadata"]["someFutureMetadataField"] = "x"
            body["someFutureTopLevelField"] = True
            got = self.expect_ok(self.post(f"keys/{key}/decrypt", body))
            if unb64(got.get("plaintext"), "plaintext") != plaintext:
                raise CaseFailure("the sample plaintext", repr(got.get("plaintext")))

        @case("metadata: unknown kmsOperation and unknown fields accepted")
        def _():
            body = self.metadata_body("SomeFutureKmsOperation")
            body["requestMetadata"]["someFutureMetadataField"] = "x"
            body["someFutureTopLevelField"] = 1
            self.expect_ok(self.post(f"keys/{key}/metadata", body))

        @case("health: unknown fields accepted")
        def _():
            body = self.health_body()
            body["requestMetadata"]["someFutureMetadataField"] = "x"
            body["someFutureTopLevelField"] = None
            self.expect_ok(self.post("health", body))

        @case("encrypt: non-UUID kmsRequestId accepted (opaque)")
        def _():
            body = self.encrypt_body(b"opaque id")
            body["requestMetadata"]["kmsRequestId"] = "not-a-uuid: 42 / {}"
            self.expect_ok(self.post(f"keys/{key}/encrypt", body))

        # Decrypt: tampering
        def tampered(mutate):
            encrypted, _plaintext, aad = self.sample()
            body = self.decrypt_body(encrypted, aad)
            mutate(body)
            return self.post(f"keys/{key}/decrypt", body)

        def flip(field):
            def mutate(body):
                data = bytearray(base64.b64decode(body[field]))
                data[0] ^= 0x01
                body[field] = b64(bytes(data))
            return mutate

        for field in ("ciphertext", "initializationVector", "authenticationTag", "additionalAuthenticatedData"):
            @case(f"decrypt: tampered {field} -> InvalidCiphertextException")
            def _(field=field):
                self.expect_invalid_ciphertext(tampered(flip(field)))

        @case("decrypt: tampered ciphertextMetadata -> InvalidCiphertextException")
        def _():
            encrypted, _plaintext, aad = self.sample()
            body = self.decrypt_body(encrypted, aad)
            if "ciphertextMetadata" in body:
                flip("ciphertextMetadata")(body)
            else:
                body["ciphertextMetadata"] = b64(b"\x01")
            self.expect_invalid_ciphertext(self.post(f"keys/{key}/decrypt", body))

        @case("decrypt: missing AAD -> InvalidCiphertextException")
        def _():
            self.expect_invalid_ciphertext(tampered(lambda body: body.pop("additionalAuthenticatedData")))

        @case("decrypt: AAD added that encrypt did not have -> InvalidCiphertextException")
        def _():
            encrypted = self.encrypt(key, b"no aad here", cdiv=False)
            self.expect_invalid_ciphertext(self.post(f"keys/{key}/decrypt", self.decrypt_body(encrypted, b"extra")))

        @case("decrypt: missing ciphertextMetadata -> InvalidCiphertextException")
        def _():
            encrypted, _plaintext, _aad = self.sample()
            if "ciphertextMetadata" not in encrypted:
                raise NotApplicable("this proxy returns no ciphertextMetadata")
            self.expect_invalid_ciphertext(tampered(lambda body: body.pop("ciphertextMetadata")))

        @case("decrypt: AAD moved into ciphertextMetadata -> InvalidCiphertextException")
        def _():
            encrypted, _plaintext, aad = self.sample()
            if len(aad) > 20:
                aad = aad[:20]
            body = self.decrypt_body(encrypted, None)
            body["ciphertextMetadata"] = b64(aad)
            self.expect_invalid_ciphertext(self.post(f"keys/{key}/decrypt", body))

        @case("decrypt: valid 16-byte IV that was not used -> InvalidCiphertextException")
        def _():
            self.expect_invalid_ciphertext(tampered(lambda body: body.__setitem__("initializationVector", b64(bytes(16)))))

        # Missing and invalid fields
        for field in ("awsPrincipalArn", "kmsKeyArn", "kmsOperation", "kmsRequestId"):
            @case(f"encrypt: missing requestMetadata.{field} -> ValidationException")
            def _(field=field):
                body = self.encrypt_body(b"x")
                del body["requestMetadata"][field]
                self.expect_validation(self.post(f"keys/{key}/encrypt", body))

            @case(f"decrypt: missing requestMetadata.{field} -> ValidationException")
            def _(field=field):
                encrypted, _plaintext, aad = self.sample()
                body = self.decrypt_body(encrypted, aad)
                del body["requestMetadata"][field]
                self.expect_validation(self.post(f"keys/{key}/decrypt", body))

        for field in ("requestMetadata", "plaintext", "encryptionAlgorithm"):
            @case(f"encrypt: missing {field} -> ValidationException")
            def _(field=field):
                body = self.encrypt_body(b"x")
                del body[field]
                self.expect_validation(self.post(f"keys/{key}/encrypt", body))

        for field in ("requestMetadata", "ciphertext", "encryptionAlgorithm", "initializationVector", "authenticationTag"):
            @case(f"decrypt: missing {field} -> ValidationException")
            def _(field=field):
                encrypted, _plaintext, aad = self.sample()
                body = self.decrypt_body(encrypted, aad)
                del body[field]
                self.expect_validation(self.post(f"keys/{key}/decrypt", body))

        @case("encrypt: encryptionAlgorithm AES_CBC -> ValidationException")
        def _():
            body = self.encrypt_body(b"x")
            body["encryptionAlgorithm"] = "AES_CBC"
            self.expect_validation(self.post(f"keys/{key}/encrypt", body))

        @case("decrypt: encryptionAlgorithm RSAES_OAEP_SHA_256 -> ValidationException")
        def _():
            encrypted, _plaintext, aad = self.sample()
            body = self.decrypt_body(encrypted, aad)
            body["encryptionAlgorithm"] = "RSAES_OAEP_SHA_256"
            self.expect_validation(self.post(f"keys/{key}/decrypt", body))

        @case("encrypt: ciphertextDataIntegrityValueAlgorithm SHA_512 -> ValidationException")
        def _():
            body = self.encrypt_body(b"x")
            body["ciphertextDataIntegrityValueAlgorithm"] = "SHA_512"
            self.expect_validation(self.post(f"keys/{key}/encrypt", body))

        url_safe = base64.urlsafe_b64encode(b"\xfb\xff\xfe\xfb\xff\xfe").decode("ascii")  # "-__--__-"

        @case("encrypt: URL-safe Base64 plaintext -> ValidationException")
        def _():
            body = self.encrypt_body(b"x")
            body["plaintext"] = url_safe
            self.expect_validation(self.post(f"keys/{key}/encrypt", body))

        @case("encrypt: URL-safe Base64 AAD -> ValidationException")
        def _():
            body = self.encrypt_body(b"x", b"y")
            body["additionalAuthenticatedData"] = url_safe
            self.expect_validation(self.post(f"keys/{key}/encrypt", body))

        @case("decrypt: URL-safe Base64 ciphertext -> ValidationException")
        def _():
            self.expect_validation(tampered(lambda body: body.__setitem__("ciphertext", url_safe)))

        @case("encrypt: Base64 without padding -> ValidationException")
        def _():
            body = self.encrypt_body(b"x")
            body["plaintext"] = "SGVsbG8"
            self.expect_validation(self.post(f"keys/{key}/encrypt", body))

        @case("encrypt: plaintext that is not Base64 -> ValidationException")
        def _():
            body = self.encrypt_body(b"x")
            body["plaintext"] = "Hello World!"
            self.expect_validation(self.post(f"keys/{key}/encrypt", body))

        @case("decrypt: 13-byte IV -> ValidationException")
        def _():
            self.expect_validation(tampered(lambda body: body.__setitem__("initializationVector", b64(bytes(13)))))

        @case("decrypt: 15-byte authentication tag -> ValidationException")
        def _():
            self.expect_validation(tampered(lambda body: body.__setitem__("authenticationTag", b64(bytes(15)))))

        @case("decrypt: 21-byte ciphertextMetadata -> 400 ValidationException or InvalidCiphertextException")
        def _():
            response = tampered(lambda body: body.__setitem__("ciphertextMetadata", b64(bytes(21))))
            self.expect_error(response, 400, "ValidationException", "InvalidCiphertextException")

        @case("encrypt: plaintext as a JSON number -> ValidationException")
        def _():
            body = self.encrypt_body(b"x")
            body["plaintext"] = 12345
            self.expect_validation(self.post(f"keys/{key}/encrypt", body))

        for operation, suffix in (("encrypt", f"keys/{key}/encrypt"), ("decrypt", f"keys/{key}/decrypt"),
                                  ("metadata", f"keys/{key}/metadata")):
            @case(f"{operation}: body that is not JSON -> ValidationException")
            def _(suffix=suffix):
                self.expect_validation(self.post(suffix, b"this is not JSON {"))

        @case("encrypt: JSON array body -> ValidationException")
        def _():
            self.expect_validation(self.post(f"keys/{key}/encrypt", b"[1,2,3]"))

        @case("encrypt: empty body -> ValidationException")
        def _():
            self.expect_validation(self.post(f"keys/{key}/encrypt", b""))

        # Unknown keys, paths and methods
        @case("encrypt: unknown key -> 404 KeyNotFoundException")
        def _():
            self.expect_error(self.post("keys/no-such-key-7f3a/encrypt", self.encrypt_body(b"x")), 404, "KeyNotFoundException")

        @case("decrypt: unknown key -> 404 KeyNotFoundException")
        def _():
            encrypted, _plaintext, aad = self.sample()
            self.expect_error(self.post("keys/no-such-key-7f3a/decrypt", self.decrypt_body(encrypted, aad)), 404, "KeyNotFoundException")

        wrong_prefix = "/wrong/prefix/kms/xks/v1/health" if self.prefix else "/some/prefix/kms/xks/v1/health"
        for name, path in (("wrong path prefix", wrong_prefix),
                           ("unknown operation path", self.api_path(f"keys/{key}/sign")),
                           ("unknown API version", f"{self.prefix}/kms/xks/v2/health"),
                           ("unknown path", "/definitely/not/an/xks/path")):
            @case(f"path: {name} -> 404 InvalidUriPathException")
            def _(path=path):
                self.expect_error(self.send("POST", path, self.health_body()), 404, "InvalidUriPathException")

        for name, suffix in (("health", "health"), ("metadata", f"keys/{key}/metadata"),
                             ("encrypt", f"keys/{key}/encrypt"), ("decrypt", f"keys/{key}/decrypt")):
            @case(f"method: GET on the {name} URI -> 405")
            def _(suffix=suffix):
                response = self.send("GET", self.api_path(suffix), b"", content_type=None)
                if response.status != 405:
                    raise CaseFailure("405", response.describe())

        # SigV4
        @case("sigv4: signed 4 minutes in the past (within 5 min) accepted")
        def _():
            self.expect_ok(self.post("health", self.health_body(), when=now_utc() - datetime.timedelta(minutes=4)))

        # Each entry makes the send() arguments when the case runs (so the skewed dates are relative to that moment).
        auth_cases = (
            ("wrong secret", lambda: dict(secret="WrongSecretWrongSecretWrongSecretWrongSecret12")),
            ("unknown access key id", lambda: dict(access_key_id="UNKNOWNACCESSKEYID234567")),
            ("wrong region", lambda: dict(region="eu-north-1" if a.region != "eu-north-1" else "us-west-2")),
            ("wrong service name in the scope", lambda: dict(service="kms")),
            ("date 10 minutes in the past", lambda: dict(when=now_utc() - datetime.timedelta(minutes=10))),
            ("date 10 minutes in the future", lambda: dict(when=now_utc() + datetime.timedelta(minutes=10))),
            ("unsigned request", lambda: dict(sign=False)),
        )
        for name, make_kwargs in auth_cases:
            for operation in ("health", "encrypt"):
                @case(f"sigv4: {name} ({operation}) -> 401 AuthenticationFailedException")
                def _(name=name, make_kwargs=make_kwargs, operation=operation):
                    if operation == "health":
                        response = self.post("health", self.health_body(), **make_kwargs())
                    else:
                        response = self.post(f"keys/{key}/encrypt", self.encrypt_body(b"x"), **make_kwargs())
                    self.expect_auth_failure(response, f"{name} ({operation})")

        @case("sigv4: body changed after signing -> 401 AuthenticationFailedException")
        def _():
            signed = self.encrypt_body(b"what was signed")
            sent = dict(signed, plaintext=b64(b"what was sent!!"))
            response = self.post(f"keys/{key}/encrypt", signed, send_body=json.dumps(sent).encode("utf-8"))
            self.expect_auth_failure(response, "body changed after signing")

        @case("sigv4: every authentication failure has the same body (reveals no check)")
        def _():
            if len(self.auth_failure_bodies) < 2:
                raise NotApplicable("needs the other sigv4 cases")
            distinct = {body for body in self.auth_failure_bodies.values()}
            if len(distinct) != 1:
                shown = "; ".join(f"{case}: {body[:120]!r}" for case, body in self.auth_failure_bodies.items())
                raise CaseFailure("one identical 401 body for every SigV4 failure", shown)

        # Key usage and key state
        @case("encrypt-only key: encrypt without CDIV succeeds")
        def _():
            self.encrypt(self.require("encrypt_only_key", "--encrypt-only-key"), b"encrypt only", cdiv=False)

        @case("encrypt-only key: encrypt with CDIV -> InvalidKeyUsageException")
        def _():
            special = self.require("encrypt_only_key", "--encrypt-only-key")
            self.expect_key_usage(self.post(f"keys/{special}/encrypt", self.encrypt_body(b"x", cdiv=True)))

        @case("encrypt-only key: decrypt -> InvalidKeyUsageException")
        def _():
            special = self.require("encrypt_only_key", "--encrypt-only-key")
            encrypted = self.encrypt(special, b"encrypt only", cdiv=False)
            self.expect_key_usage(self.post(f"keys/{special}/decrypt", self.decrypt_body(encrypted)))

        @case("decrypt-only key: encrypt -> InvalidKeyUsageException")
        def _():
            special = self.require("decrypt_only_key", "--decrypt-only-key")
            self.expect_key_usage(self.post(f"keys/{special}/encrypt", self.encrypt_body(b"x", cdiv=False)))

        @case("decrypt-only key: another key's ciphertext -> InvalidCiphertextException")
        def _():
            special = self.require("decrypt_only_key", "--decrypt-only-key")
            encrypted, _plaintext, aad = self.sample()
            self.expect_invalid_ciphertext(self.post(f"keys/{special}/decrypt", self.decrypt_body(encrypted, aad)))

        @case("no-usage key: encrypt -> InvalidKeyUsageException")
        def _():
            special = self.require("no_usage_key", "--no-usage-key")
            self.expect_key_usage(self.post(f"keys/{special}/encrypt", self.encrypt_body(b"x", cdiv=False)))

        @case("no-usage key: decrypt -> InvalidKeyUsageException")
        def _():
            special = self.require("no_usage_key", "--no-usage-key")
            encrypted, _plaintext, aad = self.sample()
            self.expect_key_usage(self.post(f"keys/{special}/decrypt", self.decrypt_body(encrypted, aad)))

        for operation in ("encrypt", "decrypt"):
            @case(f"disabled key: {operation} -> 400 InvalidStateException")
            def _(operation=operation):
                disabled = self.require("disabled_key", "--disabled-key")
                if operation == "encrypt":
                    body = self.encrypt_body(b"x")
                else:
                    encrypted, _plaintext, aad = self.sample()
                    body = self.decrypt_body(encrypted, aad)
                self.expect_error(self.post(f"keys/{disabled}/{operation}", body), 400, "InvalidStateException")

        # Size limits
        @case("limits: plaintext at the proxy's limit accepted")
        def _():
            plaintext = os.urandom(a.max_plaintext_bytes)
            self.decrypt_expect(key, self.encrypt(key, plaintext), None, plaintext)

        @case("limits: plaintext one byte over the proxy's limit -> 501 UnsupportedOperationException")
        def _():
            body = self.encrypt_body(os.urandom(a.max_plaintext_bytes + 1))
            self.expect_error(self.post(f"keys/{key}/encrypt", body), 501, "UnsupportedOperationException")

        @case("limits: ciphertext over the proxy's limit -> 501 UnsupportedOperationException")
        def _():
            encrypted, _plaintext, aad = self.sample()
            body = self.decrypt_body(encrypted, aad)
            body["ciphertext"] = b64(os.urandom(a.max_plaintext_bytes + 1))
            self.expect_error(self.post(f"keys/{key}/decrypt", body), 501, "UnsupportedOperationException")

        @case("limits: AAD over the proxy's limit -> 501 UnsupportedOperationException")
        def _():
            if not a.max_aad_bytes:
                raise NotApplicable("pass --max-aad-bytes to run this case")
            body = self.encrypt_body(b"x", os.urandom(a.max_aad_bytes + 1))
            self.expect_error(self.post(f"keys/{key}/encrypt", body), 501, "UnsupportedOperationException")

        return cases

    def run(self):
        selected = [(name, fn) for name, fn in self.cases() if not self.args.case or any(s in name for s in self.args.case)]
        passed = failed = skipped = 0
        for name, fn in selected:
            try:
                fn()
            except CaseFailure as failure:
                failed += 1
                print(f"FAIL {name}: expected {failure.expected} got {failure.got}", flush=True)
                continue
            except NotApplicable as reason:
                skipped += 1
                print(f"SKIP {name}: {reason}", flush=True)
                continue
            except Exception as error:  # noqa: BLE001 - a transport or client error fails the case, not the run
                failed += 1
                print(f"FAIL {name}: expected a response got {type(error).__name__}: {error}", flush=True)
                continue
            passed += 1
            print(f"PASS {name}", flush=True)
        print(f"\n{len(selected)} cases: {passed} passed, {failed} failed, {skipped} skipped "
              f"({self.base_url}{self.prefix}/kms/xks/v1)", flush=True)
        return 1 if failed else 0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Run the XKS proxy API v1 conformance cases against a running proxy.",
        epilog="Secrets may come from XKS_ACCESS_KEY_ID and XKS_SECRET_ACCESS_KEY instead of the command line.")
    parser.add_argument("--url", required=True, help="proxy base URL: http(s)://host[:port] (no path)")
    parser.add_argument("--prefix", default="", help="URI path prefix before /kms/xks/v1 (e.g. /example/uri/path/prefix)")
    parser.add_argument("--access-key-id", default=os.environ.get("XKS_ACCESS_KEY_ID"), help="SigV4 access key id")
    parser.add_argument("--secret", default=os.environ.get("XKS_SECRET_ACCESS_KEY"), help="SigV4 secret access key")
    parser.add_argument("--region", default=os.environ.get("XKS_REGION", "us-east-1"), help="SigV4 region (default us-east-1)")
    parser.add_argument("--ca-file", help="PEM CA bundle to verify an https proxy's certificate")
    parser.add_argument("--key", default="foo", help="externalKeyId of an enabled ENCRYPT+DECRYPT key (default foo)")
    parser.add_argument("--encrypt-only-key", help="externalKeyId of an enabled key with ENCRYPT usage only")
    parser.add_argument("--decrypt-only-key", help="externalKeyId of an enabled key with DECRYPT usage only")
    parser.add_argument("--no-usage-key", help="externalKeyId of an enabled key with neither ENCRYPT nor DECRYPT")
    parser.add_argument("--disabled-key", help="externalKeyId of a disabled key")
    parser.add_argument("--max-plaintext-bytes", type=int, default=6144,
                        help="the proxy's plaintext limit in bytes (default 6144); one more must give UnsupportedOperationException")
    parser.add_argument("--max-aad-bytes", type=int, default=12288,
                        help="the proxy's AAD limit in bytes (default 12288; 0 skips that case)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    parser.add_argument("--case", action="append", help="run only cases whose name contains this text (repeatable)")
    args = parser.parse_args(argv)
    if not args.access_key_id or not args.secret:
        parser.error("--access-key-id and --secret (or XKS_ACCESS_KEY_ID and XKS_SECRET_ACCESS_KEY) are required")
    if args.max_plaintext_bytes < 4300:
        parser.error("--max-plaintext-bytes must be at least the spec's 4300")
    return args


def main(argv=None):
    return XksConformance(parse_args(sys.argv[1:] if argv is None else argv)).run()


if __name__ == "__main__":
    sys.exit(main())
