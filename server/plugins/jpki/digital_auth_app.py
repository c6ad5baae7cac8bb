"""``digital_auth_app``: adapter skeleton for the デジタル認証アプリ サービスAPI (Digital Agency).

Flow (from the Digital Agency's implementation guideline and a platform operator's guide; the
API is only open to registered services, so this adapter is untested against it):

1. a client-credentials token from ``<base>/api/token`` (client id and secret issued at the
   service registration);
2. ``POST <base>/api/sign-transactions`` with the base64 SHA-256 digest of the canonical bytes and
   the return URL → a transaction id and the URL that opens the app on the resident's phone;
3. the resident signs with the 署名用電子証明書 (PIN 6–16 characters) and comes back;
4. ``GET <base>/api/sign-transactions/{id}/result`` → the signature and the certificate, as a JWE
   encrypted to the service's key; decrypted, they are wrapped into a CMS by
   :func:`wrap_raw_signature` and verified by the server like any other signature.

A municipality configures ``MADOGUCHI_JPKI_SIGNING_APP=digital_auth_app``,
``MADOGUCHI_JPKI_APP_BASE_URL``, ``MADOGUCHI_JPKI_APP_CLIENT_ID``,
``MADOGUCHI_JPKI_APP_CLIENT_SECRET``, ``MADOGUCHI_JPKI_APP_JWE_KEY_FILE`` (the private key the
result is encrypted to), the J-LIS 署名用CA certificates (``MADOGUCHI_JPKI_TRUST_ANCHORS``) and the
revocation source it is entitled to as 署名検証者 (CRL files or an OCSP URL).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

import httpx

from server.plugins.jpki.base import SigningApp, SigningUnavailable, SignStart, registry
from shared.plugins import CheckResult

NOT_READY = (
    "デジタル認証アプリとの連携は設定されていません（サービスAPIの利用登録後に、"
    "接続先・クライアントID・シークレット・JWE鍵を設定してください）。"
)


@registry.register
class DigitalAuthApp(SigningApp):
    plugin_id = "digital_auth_app"
    label = "デジタル認証アプリ（デジタル庁）"

    def _configured(self) -> bool:
        s = self.settings
        return bool(
            s.jpki_app_base_url
            and s.jpki_app_client_id
            and s.jpki_app_client_secret
            and s.jpki_app_jwe_key_file
        )

    def check(self) -> CheckResult:
        if not self._configured():
            return CheckResult(ok=False, message=NOT_READY)
        return CheckResult(ok=True, message="設定済み（接続は署名の開始時に確認します）。")

    async def _token(self, client: httpx.AsyncClient) -> str:
        s = self.settings
        assert s.jpki_app_client_secret is not None
        r = await client.post(
            f"{s.jpki_app_base_url}/api/token",
            data={"grant_type": "client_credentials"},
            auth=(s.jpki_app_client_id, s.jpki_app_client_secret.get_secret_value()),
        )
        r.raise_for_status()
        return str(r.json()["access_token"])

    async def start(self, *, content: bytes, return_url: str, lg_code: str, application: str) -> SignStart:
        if not self._configured():
            raise SigningUnavailable(NOT_READY)
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                token = await self._token(client)
                r = await client.post(
                    f"{self.settings.jpki_app_base_url}/api/sign-transactions",
                    json={"digest": digest, "digest_algorithm": "SHA-256", "redirect_uri": return_url},
                    headers={"Authorization": f"Bearer {token}"},
                )
                r.raise_for_status()
                data = r.json()
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise SigningUnavailable() from exc
        return SignStart(transaction=str(data["id"]), redirect_url=str(data["app_url"]))

    async def result(self, transaction: str, params: Mapping[str, str]) -> bytes:
        # The JWE decryption (key agreement and content encryption named by the API's profile)
        # is left to the deployment that holds the registration: the profile is not public.
        raise SigningUnavailable(NOT_READY)
