"""``digital_auth_app``: adapter for the デジタル認証アプリ サービスAPI (Digital Agency).

**What this is modelled on.** Public text only: the Digital Agency's 実装ガイドライン and API
reference for the authorization endpoint (developers.digital.go.jp/documents/auth-and-sign/…:
OAuth 2.0 / OIDC authorization-code flow, scope ``openid sign``, ``state``; the sign process
uses a client-credentials token to open a transaction) and a platform operator's guide
(docs.p8n.app …/digital-identification-app/…: token endpoint
``/api/realms/main/protocol/openid-connect/token`` with ``private_key_jwt``,
``POST /api/sign-transactions`` with the base64 SHA-256 digest, ``GET
/api/sign-transactions/{id}/result`` with the authorization-code token, the result "signature
and certificate as JWE"). The full API specification (field names, the JWE profile, error
answers) is given only to registered services and **was not available here**: every name marked
``MODELLED`` below is our reading, to be checked against the real specification before use (see
``docs/eforms.md`` for the list).

Flow:

1. ``start``: a client-credentials token (``private_key_jwt`` with ``jpki_app_client_key_file``,
   else ``client_secret_basic``); ``POST /api/sign-transactions`` with the digest → the
   transaction id; the resident goes to the authorization endpoint with ``state``, ``nonce`` and
   a PKCE S256 ``code_challenge`` (all random, kept server-side with the pending attempt), which
   opens the app on the phone;
2. the resident signs with the 署名用電子証明書 and comes back to the municipality's registered
   redirect URI with ``code`` and ``state`` (or ``error=access_denied``);
3. ``result``: ``state`` compared (constant time), the code exchanged with the PKCE verifier, the
   ID token's signature (the service's JWKS), ``iss``, ``aud``, ``exp`` and ``nonce`` checked; the
   result fetched and decrypted with the municipality's key (JWE via ``joserfc``; key management
   and content encryption restricted to :data:`JWE_ALGORITHMS`); the bare signature and
   certificate wrapped into a CMS by :func:`wrap_raw_signature` — the server then verifies it like
   any other signature (digest, chain, revocation, 基本4情報). Nothing the API says is trusted as
   "valid".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwe, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from server.plugins.jpki.base import (
    SigningApp,
    SigningUnavailable,
    SignStart,
    app_failed,
    registry,
    wrap_raw_signature,
)
from shared.plugins import CheckResult

NOT_READY = (
    "デジタル認証アプリとの連携は設定されていません（サービスAPIの利用登録後に、"
    "接続先・クライアントID・クライアント認証の鍵（またはシークレット）・JWE鍵を設定してください）。"
)

# MODELLED: paths below the base URL (the token path is the one the public guide shows).
REALM = "/api/realms/main"
AUTH_PATH = REALM + "/protocol/openid-connect/auth"
TOKEN_PATH = REALM + "/protocol/openid-connect/token"
JWKS_PATH = REALM + "/protocol/openid-connect/certs"
SIGN_PATH = "/api/sign-transactions"
#: MODELLED: the authorization-request parameter binding the sign transaction.
SIGN_TX_PARAM = "sign_transaction_id"

#: JWE key management and content encryption accepted for the result (no RSA1_5, no ``dir``).
JWE_ALGORITHMS = ("RSA-OAEP-256", "RSA-OAEP", "ECDH-ES", "ECDH-ES+A256KW", "A256GCM", "A128GCM")
#: ID-token signatures accepted (never ``none`` or HMAC with a public key).
ID_TOKEN_ALGORITHMS = ("RS256", "PS256", "ES256")
#: Largest answer read from the API (a result holds one signature and a certificate or two).
MAX_ANSWER = 256 * 1024
_TX_ID = re.compile(r"[A-Za-z0-9._~-]{1,200}")
_DENIED = {"access_denied", "consent_required", "login_required", "interaction_required"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _load_key(path: Path) -> RSAKey | ECKey:
    data = path.read_bytes()
    try:
        return RSAKey.import_key(data)
    except (ValueError, JoseError):
        return ECKey.import_key(data)


@registry.register
class DigitalAuthApp(SigningApp):
    plugin_id = "digital_auth_app"
    label = "デジタル認証アプリ（デジタル庁）"
    fixed_return = True

    # -- configuration ---------------------------------------------------------------------------

    def _configured(self) -> bool:
        s = self.settings
        return bool(
            s.jpki_app_base_url
            and s.jpki_app_client_id
            and (s.jpki_app_client_key_file or s.jpki_app_client_secret)
            and s.jpki_app_jwe_key_file
        )

    @property
    def _base(self) -> str:
        return self.settings.jpki_app_base_url.rstrip("/")

    @property
    def _issuer(self) -> str:
        return self.settings.jpki_app_issuer or self._base + REALM

    @cached_property
    def _jwe_key(self) -> RSAKey | ECKey:
        assert self.settings.jpki_app_jwe_key_file is not None
        return _load_key(self.settings.jpki_app_jwe_key_file)

    def check(self) -> CheckResult:
        if not self._configured():
            return CheckResult(ok=False, message=NOT_READY)
        try:
            self._jwe_key  # noqa: B018 - load once to report a broken key file now
            if self.settings.jpki_app_client_key_file:
                _load_key(self.settings.jpki_app_client_key_file)
        except (OSError, ValueError, JoseError) as exc:
            return CheckResult(ok=False, message=f"鍵ファイルを読み込めません: {type(exc).__name__}")
        return CheckResult(ok=True, message="設定済み（接続は署名の開始時に確認します）。")

    # -- HTTP ------------------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.settings.jpki_app_timeout_seconds, follow_redirects=False)

    @staticmethod
    async def _send(call: Any) -> httpx.Response:
        """One call; network errors, timeouts and 5xx are :class:`SigningUnavailable`."""
        try:
            r: httpx.Response = await call
        except httpx.HTTPError as exc:
            raise SigningUnavailable() from exc
        if r.status_code >= 500 or r.status_code == 429 or len(r.content) > MAX_ANSWER:
            raise SigningUnavailable()
        return r

    @staticmethod
    def _json(r: httpx.Response, ok: tuple[int, ...] = (200,)) -> dict[str, Any]:
        if r.status_code not in ok:
            raise SigningUnavailable()
        try:
            data = r.json()
        except ValueError:
            raise SigningUnavailable() from None
        if not isinstance(data, dict):
            raise SigningUnavailable()
        return data

    def _client_auth(self) -> tuple[dict[str, str], httpx.Auth]:
        """Form fields and basic-auth pair that authenticate the client at the token endpoint."""
        s = self.settings
        if s.jpki_app_client_key_file:
            key = _load_key(s.jpki_app_client_key_file)
            now = int(time.time())
            claims = {
                "iss": s.jpki_app_client_id,
                "sub": s.jpki_app_client_id,
                "aud": self._base + TOKEN_PATH,
                "iat": now,
                "exp": now + 60,
                "jti": secrets.token_urlsafe(16),
            }
            alg = "RS256" if isinstance(key, RSAKey) else "ES256"
            assertion = jwt.encode({"alg": alg}, claims, key, algorithms=[alg])
            return {
                "client_id": s.jpki_app_client_id,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            }, httpx.Auth()  # the base class adds nothing
        assert s.jpki_app_client_secret is not None
        return {}, httpx.BasicAuth(s.jpki_app_client_id, s.jpki_app_client_secret.get_secret_value())

    async def _token(self, client: httpx.AsyncClient, form: dict[str, str]) -> dict[str, Any]:
        fields, basic = self._client_auth()
        r = await self._send(client.post(self._base + TOKEN_PATH, data={**form, **fields}, auth=basic))
        if r.status_code == 400 and form.get("grant_type") == "authorization_code":
            # invalid_grant: the code was used, expired, or the PKCE verifier does not match.
            raise app_failed("jpki.app_expired", f"token endpoint: {r.text[:200]}")
        data = self._json(r)
        if not isinstance(data.get("access_token"), str):
            raise SigningUnavailable()
        return data

    # -- the contract ----------------------------------------------------------------------------

    async def start(self, *, content: bytes, return_url: str, lg_code: str, application: str) -> SignStart:
        if not self._configured():
            raise SigningUnavailable(NOT_READY)
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        async with self._client() as client:
            token = await self._token(client, {"grant_type": "client_credentials", "scope": "sign"})
            r = await self._send(
                client.post(
                    self._base + SIGN_PATH,
                    # MODELLED: field names of the sign-transaction request.
                    json={"digest": digest, "digest_algorithm": "SHA-256"},
                    headers={"Authorization": f"Bearer {token['access_token']}"},
                )
            )
            data = self._json(r, ok=(200, 201))
        tx_id = data.get("id")
        if not isinstance(tx_id, str) or not _TX_ID.fullmatch(tx_id):
            raise SigningUnavailable()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        query = {
            "response_type": "code",
            "scope": "openid sign",
            "client_id": self.settings.jpki_app_client_id,
            "redirect_uri": return_url,
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
            SIGN_TX_PARAM: tx_id,
        }
        return SignStart(
            transaction=state,
            redirect_url=f"{self._base}{AUTH_PATH}?{urlencode(query)}",
            kept={"sign_tx": tx_id, "nonce": nonce, "verifier": verifier, "redirect_uri": return_url},
        )

    async def result(
        self, transaction: str, params: Mapping[str, str], kept: Mapping[str, str] | None = None
    ) -> bytes:
        kept = kept or {}
        state = params.get("state", "")
        if not state or not hmac.compare_digest(state.encode(), transaction.encode()):
            raise app_failed("jpki.app_state", "state differs")
        error = params.get("error")
        if error:
            code = "jpki.app_denied" if error in _DENIED else "jpki.app_failed"
            raise app_failed(code, f"error={error[:100]}")
        auth_code = params.get("code", "")
        if not auth_code or not all(k in kept for k in ("sign_tx", "nonce", "verifier", "redirect_uri")):
            raise app_failed("jpki.app_state", "no code or nothing kept")
        async with self._client() as client:
            tokens = await self._token(
                client,
                {
                    "grant_type": "authorization_code",
                    "code": auth_code,
                    "redirect_uri": kept["redirect_uri"],
                    "code_verifier": kept["verifier"],
                },
            )
            await self._check_id_token(client, tokens.get("id_token"), kept["nonce"])
            r = await self._send(
                client.get(
                    f"{self._base}{SIGN_PATH}/{kept['sign_tx']}/result",
                    headers={"Authorization": f"Bearer {tokens['access_token']}"},
                )
            )
            if r.status_code in (404, 410):
                raise app_failed("jpki.app_expired", f"result HTTP {r.status_code}")
            data = self._json(r)
        return self._open(data)

    async def _check_id_token(self, client: httpx.AsyncClient, id_token: Any, nonce: str) -> None:
        """The ID token of the code exchange: signed by the service, for us, fresh, our nonce."""
        if not isinstance(id_token, str):
            raise app_failed("jpki.app_state", "no id_token")
        keys = self._json(await self._send(client.get(self._base + JWKS_PATH)))
        try:
            token = jwt.decode(id_token, KeySet.import_key_set(keys), algorithms=list(ID_TOKEN_ALGORITHMS))  # type: ignore[arg-type]
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self.settings.jpki_app_client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise app_failed("jpki.app_state", f"id_token: {type(exc).__name__}: {exc}"[:300]) from None

    def _open(self, data: Mapping[str, Any]) -> bytes:
        """Decrypt the result (MODELLED: ``{"result": "<compact JWE>"}`` whose plaintext is JSON
        ``{"signature": b64, "certificate": b64 DER, "chain": [b64 DER …]?}``) into a CMS."""
        value = data.get("result")
        if not isinstance(value, str) or len(value) > MAX_ANSWER:
            raise app_failed("jpki.app_result", "no result")
        try:
            plain = jwe.decrypt_compact(value, self._jwe_key, algorithms=list(JWE_ALGORITHMS)).plaintext
            payload = json.loads(plain or b"")
            signature = base64.b64decode(payload["signature"], validate=True)
            certificate = base64.b64decode(payload["certificate"], validate=True)
            chain = tuple(base64.b64decode(c, validate=True) for c in payload.get("chain") or ())
            if len(chain) > 4:
                raise ValueError("chain too long")
            return wrap_raw_signature(certificate, signature, chain=chain)
        except (JoseError, ValueError, TypeError, KeyError, AttributeError, binascii.Error) as exc:
            raise app_failed("jpki.app_result", f"{type(exc).__name__}: {exc}"[:300]) from None
