"""``sandbox``: a signing app whose "smartphone" is a page of this server (demo and tests).

The page shows the test signer's 基本4情報 (editable, prefilled from the application) and signs the
canonical bytes with a test certificate issued on the spot by a test CA generated in this process
(root → intermediate → signer). Its CRL is published to the verifier through
:meth:`SigningApp.extra_crls`; a "失効した証明書" choice revokes the certificate right after
issuing it, "期限切れの証明書" issues one that has expired, so the error pages can be seen.
Nothing here is a real JPKI certificate; the CA exists only in memory.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from cryptography import x509

from server.domain.jpki.certinfo import FourInfo
from server.plugins.jpki import testpki
from server.plugins.jpki.base import SigningApp, SigningUnavailable, SignStart, registry

_LOCK = threading.Lock()
_PKI: dict[str, testpki.Issued] = {}
_REVOKED: list[x509.Certificate] = []
#: transaction → (content, return_url); finished ones → signature. Bounded (oldest dropped).
_PENDING: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
_DONE: OrderedDict[str, bytes] = OrderedDict()
_MAX = 1000

VARIANTS = {"valid": "有効な証明書", "revoked": "失効した証明書", "expired": "期限切れの証明書"}


def _pki() -> tuple[testpki.Issued, testpki.Issued]:
    with _LOCK:
        if not _PKI:
            root = testpki.make_ca("Madoguchi Sandbox JPKI Root (テスト用)")
            _PKI["root"] = root
            _PKI["intermediate"] = testpki.make_ca("Madoguchi Sandbox JPKI Sign CA (テスト用)", root)
        return _PKI["root"], _PKI["intermediate"]


def _put(store: OrderedDict[str, object], key: str, value: object) -> None:
    store[key] = value
    while len(store) > _MAX:
        store.popitem(last=False)


@registry.register
class SandboxSigningApp(SigningApp):
    plugin_id = "sandbox"
    label = "サンドボックス（テスト用の署名アプリ）"
    is_fake = True
    revocation_override = "crl"

    async def start(self, *, content: bytes, return_url: str, lg_code: str, application: str) -> SignStart:
        tx = secrets.token_urlsafe(18)
        with _LOCK:
            _put(_PENDING, tx, (content, return_url))  # type: ignore[arg-type]
        page = f"/portal/{lg_code}/applications/{application}/sign/sandbox?" + urlencode({"tx": tx})
        return SignStart(transaction=tx, redirect_url=page)

    # -- the "smartphone" page's side -----------------------------------------------------------

    def pending(self, tx: str) -> tuple[bytes, str] | None:
        with _LOCK:
            return _PENDING.get(tx)

    def sign(self, tx: str, info: FourInfo, variant: str = "valid") -> str:
        """Sign the pending content as ``info``; returns the URL to go back to."""
        with _LOCK:
            item = _PENDING.pop(tx, None)
        if item is None:
            raise SigningUnavailable(
                "署名の手続きが見つかりません。もう一度「署名する」からやり直してください。"
            )
        content, return_url = item
        _root, ca = _pki()
        now = datetime.now(UTC)
        if variant == "expired":
            signer = testpki.make_signer(
                ca, info, not_before=now - timedelta(days=400), not_after=now - timedelta(days=30)
            )
        else:
            signer = testpki.make_signer(ca, info)
        if variant == "revoked":
            with _LOCK:
                _REVOKED.append(signer.cert)
        cms = testpki.sign_detached(content, signer, [ca.cert])
        with _LOCK:
            _put(_DONE, tx, cms)  # type: ignore[arg-type]
        return return_url

    # -- the contract ---------------------------------------------------------------------------

    async def result(
        self, transaction: str, params: Mapping[str, str], kept: Mapping[str, str] | None = None
    ) -> bytes:
        with _LOCK:
            cms = _DONE.pop(transaction, None)
        if cms is None:
            raise SigningUnavailable("署名が完了していません。もう一度「署名する」からやり直してください。")
        return cms

    def extra_trust_anchors(self) -> list[bytes]:
        return [_pki()[0].der]

    def extra_crls(self) -> list[bytes]:
        root, ca = _pki()
        with _LOCK:
            revoked = list(_REVOKED)
        return [testpki.make_crl(ca, revoked), testpki.make_crl(root, [])]
