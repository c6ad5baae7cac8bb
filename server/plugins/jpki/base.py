"""The signing-app contract.

The server hands the app the canonical bytes of an application (``start``); the resident signs
with the 署名用電子証明書 of the My Number card (PIN for signing); the resident comes back to
``return_url`` and the server fetches the result (``result``): a detached CMS SignedData over the
same bytes. The server then verifies it itself (``server.domain.jpki.verify``) — a plugin is
never trusted to say "valid".

Apps that return a bare signature and certificate (the デジタル認証アプリ returns PKCS#1 v1.5 over
the SHA-256 digest) wrap them with :func:`wrap_raw_signature` into a CMS SignedData without
signed attributes, which verifies the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509

from shared.errors import MadoguchiError
from shared.plugins import Plugin, Registry

if TYPE_CHECKING:
    from server.config import Settings


class SigningUnavailable(MadoguchiError):
    code = "jpki.app_unavailable"
    http_status = 503
    default_message = "署名アプリとの連携ができませんでした。時間をおいてもう一度お試しください。"


class SigningAppFailed(MadoguchiError):
    """The signing app's side ended without a usable result; ``code`` says why (``APP_MESSAGES``)."""

    code = "jpki.app_failed"
    http_status = 422
    default_message = "署名アプリでの署名が完了しませんでした。もう一度「署名する」からやり直してください。"


#: Japanese messages of the signing-app failures (the application stays unsigned and unchanged).
APP_MESSAGES = {
    "jpki.app_denied": (
        "デジタル認証アプリでの署名が取りやめられました。申請はまだ署名されていません。"
        "署名するときは、もう一度「署名する」を押してください。"
    ),
    "jpki.app_expired": (
        "署名の受付時間が過ぎました。申請はまだ署名されていません。もう一度「署名する」からやり直してください。"
    ),
    "jpki.app_state": (
        "署名アプリから戻った情報が、この申請の署名手続きと一致しません。"
        "申請はまだ署名されていません。もう一度「署名する」からやり直してください。"
    ),
    "jpki.app_result": (
        "署名アプリから受け取った署名結果を読み取れませんでした（暗号化された結果を復号できないか、"
        "形式が正しくありません）。申請はまだ署名されていません。もう一度「署名する」からやり直してください。"
        "続く場合は担当課にお問い合わせください。"
    ),
    "jpki.app_failed": SigningAppFailed.default_message,
}


def app_failed(code: str, detail: str | None = None) -> SigningAppFailed:
    exc = SigningAppFailed(APP_MESSAGES[code], code=code)
    exc.detail = detail  # type: ignore[attr-defined]
    return exc


@dataclass(frozen=True)
class SignStart:
    """A started signing: the app's transaction id (kept by the server) and where the resident goes.

    ``kept`` is what the adapter needs again when the resident comes back (PKCE verifier, nonce,
    the app's own transaction id): stored with the pending attempt only, dropped once it ends."""

    transaction: str
    redirect_url: str
    kept: Mapping[str, str] = field(default_factory=dict)


class SigningApp(Plugin):
    """What every signing app adapter offers."""

    #: The revocation source this app forces (the sandbox publishes its own CRL), or None.
    revocation_override: ClassVar[str | None] = None
    #: True when the app sends the resident back to one registered address per municipality
    #: (``/portal/{lg_code}/sign/return?state=…``, as OAuth 2.0 redirect URIs are registered),
    #: False when the per-application return URL may be used.
    fixed_return: ClassVar[bool] = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def start(self, *, content: bytes, return_url: str, lg_code: str, application: str) -> SignStart:
        """Open a signing transaction for ``content``; the resident is sent to ``redirect_url``."""
        raise NotImplementedError

    async def result(
        self, transaction: str, params: Mapping[str, str], kept: Mapping[str, str] | None = None
    ) -> bytes:
        """The detached CMS (DER) of a finished transaction; ``params`` are the return URL's query,
        ``kept`` what :meth:`start` asked to keep. Raises :class:`SigningAppFailed` (denied,
        expired, state, result) or :class:`SigningUnavailable` (the app's API unreachable)."""
        raise NotImplementedError

    def extra_trust_anchors(self) -> list[bytes]:
        """CA certificates (DER) this app's test certificates chain to (sandbox only)."""
        return []

    def extra_crls(self) -> list[bytes]:
        """CRLs (DER) this app publishes (sandbox only)."""
        return []


def wrap_raw_signature(
    certificate_der: bytes, signature: bytes, *, digest: str = "sha256", chain: tuple[bytes, ...] = ()
) -> bytes:
    """A CMS SignedData (DER, detached, no signed attributes) holding a bare RSA signature.

    The signature is RSASSA-PKCS1-v1_5 over the content with ``digest``, as the デジタル認証アプリ
    makes it over the digest the server sent.
    """
    cert = asn1_x509.Certificate.load(certificate_der)
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest}),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
            "signature": signature,
        }
    )
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest})],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cert, *(asn1_x509.Certificate.load(c) for c in chain)],
            "signer_infos": [signer],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


registry: Registry[SigningApp] = Registry(
    "jpki_signing_app",
    modules=("server.plugins.jpki.sandbox", "server.plugins.jpki.digital_auth_app"),
)
