"""A stand-in for the デジタル認証アプリ サービスAPI over real HTTP (``http.server`` in a thread).

It follows what ``server/plugins/jpki/digital_auth_app.py`` models from the public guides: a
token endpoint (client credentials with ``private_key_jwt`` or basic auth; authorization code
with PKCE S256), ``POST /api/sign-transactions`` (the digest), the authorization endpoint that
plays "the app on the phone" (the resident signs: the test certificate's key signs the digest,
PKCS#1 v1.5 with SHA-256), ``GET /api/sign-transactions/{id}/result`` (a compact JWE encrypted to
the municipality's public key) and the JWKS of the ID tokens. ``mode`` makes it answer in hostile
or broken ways. Nothing here is the Digital Agency's code or specification.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, utils
from joserfc import jwe, jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet, RSAKey

from server.plugins.jpki import testpki as T

REALM = "/api/realms/main"
CLIENT_ID = "RP0000000001"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class Emulator:
    url: str
    client_key: RSAKey  # the municipality's client-authentication key (public part registered)
    jwe_key: RSAKey  # the municipality's JWE key (the emulator encrypts to its public part)
    signer: T.Issued
    chain: list[Any]
    #: ok | deny | wrong_alg | tamper | other_digest | bad_nonce | result_gone | result_500 |
    #: slow_result | garbage_result | huge_result | start_500 | bad_tx_id
    mode: str = "ok"
    idp_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "idp-1"}))
    secret: str = "s3cret"
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str | None] = field(default_factory=dict)  # access token → sign tx (None: cc)
    log: list[str] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return self.url + REALM

    # -- endpoints -------------------------------------------------------------------------------

    def token(self, form: dict[str, str], auth: str | None) -> tuple[int, dict[str, Any]]:
        if not self._client_ok(form, auth):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "client_credentials":
            tok = "cc-" + secrets.token_hex(8)
            self.tokens[tok] = None
            return 200, {"access_token": tok, "token_type": "Bearer", "expires_in": 300}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        item = self.codes.pop(form.get("code", ""), None)  # a code is used once
        if item is None or item["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        if challenge != item["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        tok = "ac-" + secrets.token_hex(8)
        self.tokens[tok] = item["tx"]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "user-1",
            "iat": now,
            "exp": now + 300,
            "nonce": "not-yours" if self.mode == "bad_nonce" else item["nonce"],
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "idp-1"}, claims, self.idp_key)
        return 200, {"access_token": tok, "token_type": "Bearer", "id_token": id_token}

    def _client_ok(self, form: dict[str, str], auth: str | None) -> bool:
        if form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            try:
                tok = jwt.decode(form.get("client_assertion", ""), self.client_key, algorithms=["RS256"])
                jwt.JWTClaimsRegistry(
                    iss={"essential": True, "value": CLIENT_ID},
                    sub={"essential": True, "value": CLIENT_ID},
                    aud={"essential": True, "value": self.url + REALM + "/protocol/openid-connect/token"},
                    exp={"essential": True},
                ).validate(tok.claims)
            except Exception:
                return False
            return True
        expected = "Basic " + b64(f"{CLIENT_ID}:{self.secret}".encode())
        return auth == expected

    def start(self, body: dict[str, Any], bearer: str | None) -> tuple[int, dict[str, Any]]:
        if self.mode == "start_500":
            return 500, {"error": "server_error"}
        if bearer not in self.tokens or self.tokens[bearer] is not None:
            return 401, {"error": "invalid_token"}
        digest = base64.b64decode(body["digest"], validate=True)
        if len(digest) != 32 or body.get("digest_algorithm") != "SHA-256":
            return 400, {"error": "invalid_request"}
        tx = str(uuid.uuid4())
        self.transactions[tx] = {"digest": digest, "signed": None}
        if self.mode == "bad_tx_id":  # would walk out of the result path if it were used
            return 201, {"id": "../../admin?x=" + tx}
        return 201, {"id": tx}

    def authorize(self, q: dict[str, str]) -> str:
        """The app on the phone: the resident reads the card, types the PIN and signs (or not)."""
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
        assert q["scope"].split() == ["openid", "sign"] and q["code_challenge_method"] == "S256"
        tx = self.transactions[q["sign_transaction_id"]]
        back = q["redirect_uri"]
        if self.mode == "deny":
            return back + "?" + urlencode({"error": "access_denied", "state": q["state"]})
        digest = hashlib.sha256(b"something else").digest() if self.mode == "other_digest" else tx["digest"]
        tx["signed"] = self.signer.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "tx": q["sign_transaction_id"],
            "challenge": q["code_challenge"],
            "redirect_uri": back,
            "nonce": q["nonce"],
        }
        return back + "?" + urlencode({"code": code, "state": q["state"]})

    def result(self, tx_id: str, bearer: str | None) -> tuple[int, dict[str, Any]]:
        if self.mode == "result_500":
            return 500, {"error": "server_error"}
        if self.mode == "result_gone":
            return 410, {"error": "expired"}
        if self.mode == "slow_result":
            time.sleep(4.0)  # longer than the adapter waits (2 s in the tests)
        if self.mode == "huge_result":
            return 200, {"result": "A" * 300_000}
        if bearer not in self.tokens or self.tokens[bearer] != tx_id:
            return 401, {"error": "invalid_token"}
        tx = self.transactions[tx_id]
        payload = json.dumps(
            {
                "signature": b64(tx["signed"]),
                "certificate": b64(self.signer.cert.public_bytes(serialization.Encoding.DER)),
                "chain": [b64(c.public_bytes(serialization.Encoding.DER)) for c in self.chain],
            }
        ).encode()
        if self.mode == "garbage_result":
            payload = b'{"signature": "!!", "certificate": 3}'
        public = RSAKey.import_key(self.jwe_key.as_dict(private=False))
        if self.mode == "wrong_alg":
            header = {"alg": "RSA1_5", "enc": "A256GCM"}
            with warnings.catch_warnings():  # deprecated on purpose: the adapter must refuse it
                warnings.simplefilter("ignore", SecurityWarning)
                value = jwe.encrypt_compact(header, payload, public, algorithms=["RSA1_5", "A256GCM"])
        else:
            value = jwe.encrypt_compact(
                {"alg": "RSA-OAEP-256", "enc": "A256GCM"},
                payload,
                public,
                algorithms=["RSA-OAEP-256", "A256GCM"],
            )
        if self.mode == "tamper":
            parts = value.split(".")
            ct = bytearray(base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4)))
            ct[0] ^= 0x01
            parts[3] = base64.urlsafe_b64encode(bytes(ct)).rstrip(b"=").decode()
            value = ".".join(parts)
        return 200, {"result": value}

    def jwks(self) -> dict[str, Any]:
        return KeySet([self.idp_key]).as_dict(private=False)


def serve(emu: Emulator) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(
            self, status: int, body: dict[str, Any] | None = None, location: str | None = None
        ) -> None:
            data = json.dumps(body or {}).encode()
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self._headers_buffer.append(b"\r\n")
            payload, self._headers_buffer = b"".join(self._headers_buffer) + data, []
            try:
                # The adapter hangs up on the oversized result: the write fails with EPIPE. MSG_NOSIGNAL
                # keeps that an error whatever the process's SIGPIPE disposition (libsane's scanner
                # thread helper once reset it to "terminate" in an earlier test: see the SANE plugin).
                self.connection.sendall(payload, socket.MSG_NOSIGNAL)
            except OSError:
                self.close_connection = True

        def _bearer(self) -> str | None:
            auth = self.headers.get("Authorization", "")
            return auth[7:] if auth.startswith("Bearer ") else None

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            emu.log.append(f"GET {parts.path}")
            if parts.path == REALM + "/protocol/openid-connect/auth":
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                self._answer(302, location=emu.authorize(q))
            elif parts.path == REALM + "/protocol/openid-connect/certs":
                self._answer(200, emu.jwks())
            elif parts.path.startswith("/api/sign-transactions/") and parts.path.endswith("/result"):
                self._answer(*emu.result(parts.path.split("/")[3], self._bearer()))
            else:
                self._answer(404, {"error": "not_found"})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            parts = urlsplit(self.path)
            emu.log.append(f"POST {parts.path}")
            if parts.path == REALM + "/protocol/openid-connect/token":
                form = {k: v[0] for k, v in parse_qs(body).items()}
                self._answer(*emu.token(form, self.headers.get("Authorization")))
            elif parts.path == "/api/sign-transactions":
                self._answer(*emu.start(json.loads(body), self._bearer()))
            else:
                self._answer(404, {"error": "not_found"})

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    emu.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
