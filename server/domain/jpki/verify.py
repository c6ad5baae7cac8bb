"""Verification of a JPKI signature over an application's canonical bytes.

Libraries and why: ``asn1crypto`` parses the CMS SignedData (``cryptography`` can load the
certificates of a PKCS#7 file but exposes no SignerInfo); the signature itself is checked with
``cryptography`` primitives (RSA PKCS#1 v1.5 / PSS, ECDSA); the certificate path (chain to the
configured trust anchors, validity period, key usage, CRL and OCSP processing per RFC 5280 /
RFC 6960) is ``pyhanko-certvalidator``, the maintained fork of ``certvalidator`` used by pyHanko.
``cryptography``'s own X.509 verifier has no revocation checking and a TLS-shaped policy, so it
does not fit a 署名用電子証明書. No cryptographic primitive is written here.

Steps, in order (each failure is a :class:`SignatureRejected` with a stable code):

1. size and shape: DER CMS ``SignedData``, one SignerInfo, detached (or embedding exactly the
   canonical bytes), at most :data:`MAX_SIGNATURE_BYTES`;
2. the signed attributes: content type ``data`` and ``messageDigest`` = hash of the canonical
   bytes (SHA-256/384/512 only);
3. the signature over the DER of the signed attributes with the signer certificate's key;
4. the path from the signer certificate to a trust anchor at the verification time: signatures
   of the chain, validity periods, CA constraints, key usage ``digitalSignature`` +
   ``nonRepudiation`` of the signer certificate;
5. revocation of the signer certificate, by the configured CRL files or by OCSP (the configured
   responder URL, else the certificate's AIA); an unreachable responder is its own error;
6. the 基本4情報 from the certificate.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.revinfo.validate_ocsp import verify_ocsp_response

from server.domain.jpki.certinfo import FourInfo, four_info_of
from shared.errors import MadoguchiError

#: Largest signature accepted (a JPKI CMS with its certificate is a few kB).
MAX_SIGNATURE_BYTES = 64 * 1024
#: Key usage a 署名用電子証明書 must allow.
SIGNER_KEY_USAGE = {"digital_signature", "non_repudiation"}

Revocation = Literal["crl", "ocsp", "none"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class SignatureRejected(MadoguchiError):
    """The signature or its certificate did not pass; ``code`` says which check."""

    code = "jpki.rejected"
    http_status = 422
    default_message = "電子署名を確認できませんでした。"


MESSAGES = {
    "jpki.too_large": "署名データが大きすぎます。署名をやり直してください。",
    "jpki.malformed": "署名データの形式が正しくありません（CMS/PKCS#7 の署名ではありません）。",
    "jpki.unsupported": "この署名の方式には対応していません。",
    "jpki.mismatch": (
        "署名が申請内容と一致しません。申請内容が変わったか、署名が壊れています。署名をやり直してください。"
    ),
    "jpki.untrusted": (
        "署名用電子証明書を信頼できる認証局までたどれません。"
        "マイナンバーカードの署名用電子証明書で署名してください。"
    ),
    "jpki.expired": (
        "署名用電子証明書の有効期限が切れています（または有効期間の前です）。"
        "市区町村の窓口で更新してください。"
    ),
    "jpki.key_usage": "この証明書は電子署名に使えません。署名用電子証明書で署名してください。",
    "jpki.revoked": (
        "署名用電子証明書は失効しています。"
        "住所や氏名の変更で失効した場合は、窓口で新しい証明書を発行してください。"
    ),
    "jpki.no_four_info": (
        "証明書に基本4情報（氏名・生年月日・性別・住所）がありません。署名用電子証明書で署名してください。"
    ),
    "jpki.revocation_unavailable": (
        "証明書の失効確認ができませんでした（失効確認サーバーに接続できません）。"
        "時間をおいてもう一度お試しください。"
    ),
    "jpki.revocation_unknown": (
        "証明書の失効情報を確認できませんでした。時間をおいてもう一度お試しください。"
    ),
}


def rejected(code: str, detail: str | None = None) -> SignatureRejected:
    exc = SignatureRejected(MESSAGES[code], code=code)
    exc.detail = detail  # type: ignore[attr-defined]
    return exc


@dataclass(frozen=True)
class Trust:
    """Trust anchors and the revocation source, from the settings (``services.trust_for``)."""

    anchors: list[bytes]
    revocation: Revocation = "crl"
    crls: list[bytes] = field(default_factory=list)
    ocsp_url: str | None = None
    ocsp_timeout: float = 5.0


@dataclass
class Verification:
    """What a successful verification established."""

    four_info: FourInfo
    signer_subject: str
    signer_serial: str
    issuer: str
    not_before: datetime
    not_after: datetime
    digest_algorithm: str
    content_sha256: str
    revocation: str  # how revocation was checked: "crl", "ocsp", "none"
    checked_at: datetime
    certificate_der: bytes
    checks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "signer_subject": self.signer_subject,
            "signer_serial": self.signer_serial,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "digest_algorithm": self.digest_algorithm,
            "content_sha256": self.content_sha256,
            "revocation": self.revocation,
            "checked_at": self.checked_at.isoformat(),
            "checks": list(self.checks),
        }


def read_certificates(data: bytes) -> list[bytes]:
    """DER certificates in a PEM bundle or one DER file."""
    if b"-----BEGIN" in data:
        return [c.public_bytes(serialization.Encoding.DER) for c in x509.load_pem_x509_certificates(data)]
    return [x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.DER)]


def read_crls(data: bytes) -> list[bytes]:
    """DER CRLs in a PEM file (several allowed) or one DER file."""
    if b"-----BEGIN" in data:
        out = []
        for block in data.split(b"-----END X509 CRL-----"):
            if b"-----BEGIN X509 CRL-----" in block:
                pem = block[block.index(b"-----BEGIN") :] + b"-----END X509 CRL-----\n"
                out.append(x509.load_pem_x509_crl(pem).public_bytes(serialization.Encoding.DER))
        return out
    return [x509.load_der_x509_crl(data).public_bytes(serialization.Encoding.DER)]


def load_files(paths: list[Path], reader: Any) -> list[bytes]:
    out: list[bytes] = []
    for path in paths:
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for f in files:
            out.extend(reader(f.read_bytes()))
    return out


# ---------------------------------------------------------------- CMS


@dataclass
class _Parsed:
    signer: asn1_x509.Certificate
    others: list[asn1_x509.Certificate]
    digest_algorithm: str


def _parse(cms_der: bytes, content: bytes) -> _Parsed:
    """Steps 1–3: shape, signed attributes, signature."""
    if len(cms_der) > MAX_SIGNATURE_BYTES:
        raise rejected("jpki.too_large")
    if b"-----BEGIN" in cms_der[:64]:
        try:
            body = b"".join(line for line in cms_der.splitlines() if line and not line.startswith(b"-----"))
            cms_der = base64.b64decode(body, validate=True)
        except ValueError:
            raise rejected("jpki.malformed") from None
    try:
        info = cms.ContentInfo.load(cms_der, strict=True)
        if info["content_type"].native != "signed_data":
            raise rejected("jpki.malformed", "not signed_data")
        signed = info["content"]
        signer_infos = list(signed["signer_infos"])
        certs = [c.chosen for c in (signed["certificates"] or []) if c.name == "certificate"]
        encap = signed["encap_content_info"]["content"]
        embedded = encap.native if encap is not None and encap.native is not None else None
    except SignatureRejected:
        raise
    except (ValueError, TypeError, KeyError, AttributeError):
        raise rejected("jpki.malformed") from None
    if len(signer_infos) != 1:
        raise rejected("jpki.malformed", "signer count")
    if embedded is not None and embedded != content:
        raise rejected("jpki.mismatch", "embedded content differs")
    si = signer_infos[0]
    try:
        sid = si["sid"]
        if sid.name == "issuer_and_serial_number":
            want = sid.chosen
            match = [
                c
                for c in certs
                if c.issuer == want["issuer"] and c.serial_number == want["serial_number"].native
            ]
        else:
            match = [c for c in certs if c.key_identifier == sid.chosen.native]
        digest_name = si["digest_algorithm"]["algorithm"].native
        sig_algo = si["signature_algorithm"]
        signature = si["signature"].native
        signed_attrs = si["signed_attrs"]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise rejected("jpki.malformed") from None
    if not match:
        raise rejected("jpki.untrusted", "signer certificate not in the CMS")
    signer = match[0]
    hash_cls = _HASHES.get(digest_name)
    if hash_cls is None:
        raise rejected("jpki.unsupported", f"digest {digest_name}")
    if signed_attrs is not None and len(signed_attrs):
        attrs = {a["type"].native: a["values"] for a in signed_attrs}
        digest = attrs.get("message_digest")
        ctype = attrs.get("content_type")
        if digest is None or ctype is None or len(digest) != 1 or ctype[0].native != "data":
            raise rejected("jpki.malformed", "signed attributes")
        h = hashes.Hash(hash_cls())
        h.update(content)
        if digest[0].native != h.finalize():
            raise rejected("jpki.mismatch", "message digest")
        to_verify = b"\x31" + signed_attrs.dump()[1:]  # the SET OF, not the [0] IMPLICIT tag
    else:
        to_verify = content
    _check_signature(signer, sig_algo, signature, to_verify, hash_cls)
    others = [c for c in certs if c is not signer]
    return _Parsed(signer, others, digest_name)


def _check_signature(
    signer: asn1_x509.Certificate,
    sig_algo: Any,
    signature: bytes,
    data: bytes,
    hash_cls: type[hashes.HashAlgorithm],
) -> None:
    try:
        key = x509.load_der_x509_certificate(signer.dump()).public_key()
    except ValueError:
        raise rejected("jpki.malformed", "signer certificate") from None
    algo = sig_algo["algorithm"].native
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algo == "rsassa_pss":
                params = sig_algo["parameters"]
                pss_hash = _HASHES.get(params["hash_algorithm"]["algorithm"].native)
                if pss_hash is None:
                    raise rejected("jpki.unsupported", "pss hash")
                key.verify(
                    signature,
                    data,
                    padding.PSS(padding.MGF1(pss_hash()), params["salt_length"].native),
                    pss_hash(),
                )
            elif algo in ("rsassa_pkcs1v15", "rsa", "sha256_rsa", "sha384_rsa", "sha512_rsa"):
                key.verify(signature, data, padding.PKCS1v15(), hash_cls())
            else:
                raise rejected("jpki.unsupported", f"signature {algo}")
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hash_cls()))
        else:
            raise rejected("jpki.unsupported", "key type")
    except InvalidSignature:
        raise rejected("jpki.mismatch", "signature value") from None


# ---------------------------------------------------------------- path and revocation


def _context(
    trust: Trust,
    others: list[asn1_x509.Certificate],
    at: datetime,
    *,
    crls: list[bytes],
    ocsps: list[bytes],
    rule: RevocationCheckingRule,
) -> ValidationContext:
    policy = CertRevTrustPolicy(
        RevocationCheckingPolicy(
            ee_certificate_rule=rule, intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
        )
    )
    return ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(a) for a in trust.anchors],
        other_certs=others,
        moment=at,
        allow_fetching=False,
        crls=crls,
        ocsps=ocsps,
        revinfo_policy=policy,
    )


async def _validate(signer: asn1_x509.Certificate, context: ValidationContext) -> Any:
    validator = CertificateValidator(signer, validation_context=context)
    try:
        return await validator.async_validate_usage(SIGNER_KEY_USAGE)  # type: ignore[no-untyped-call]
    except cv_errors.RevokedError:
        raise rejected("jpki.revoked") from None
    except (cv_errors.ExpiredError, cv_errors.NotYetValidError):
        raise rejected("jpki.expired") from None
    except cv_errors.InvalidCertificateError as exc:
        text = str(exc)
        if "key usage" in text.lower() or "not valid for the purpose" in text:
            raise rejected("jpki.key_usage", text) from None
        raise rejected("jpki.untrusted", text) from None
    except cv_errors.InsufficientRevinfoError as exc:
        raise rejected("jpki.revocation_unknown", str(exc)) from None
    except (cv_errors.PathBuildingError, cv_errors.PathValidationError) as exc:
        text = str(exc)
        if "expired" in text or "not valid until" in text or "not yet valid" in text:
            raise rejected("jpki.expired", text) from None
        if "revoked" in text:
            raise rejected("jpki.revoked", text) from None
        raise rejected("jpki.untrusted", text) from None
    except cv_errors.ValidationError as exc:
        raise rejected("jpki.untrusted", str(exc)) from None


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """An OCSP request (SHA-1 CertID as RFC 5019 profiles, which every responder accepts)."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303
    return builder.build().public_bytes(serialization.Encoding.DER)


def ocsp_url_of(cert: x509.Certificate) -> str | None:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    for d in aia:
        if d.access_method == AuthorityInformationAccessOID.OCSP:
            return str(d.access_location.value)
    return None


async def fetch_ocsp(trust: Trust, cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """Ask the OCSP responder; an unreachable or broken responder is ``jpki.revocation_unavailable``."""
    url = trust.ocsp_url or ocsp_url_of(cert)
    if not url:
        raise rejected("jpki.revocation_unavailable", "no OCSP URL")
    try:
        async with httpx.AsyncClient(timeout=trust.ocsp_timeout) as client:
            r = await client.post(
                url, content=ocsp_request(cert, issuer), headers={"Content-Type": "application/ocsp-request"}
            )
    except httpx.HTTPError as exc:
        raise rejected("jpki.revocation_unavailable", f"{type(exc).__name__}: {url}") from None
    if r.status_code != 200 or len(r.content) > 256 * 1024:
        raise rejected("jpki.revocation_unavailable", f"HTTP {r.status_code}")
    try:
        parsed = ocsp.load_der_ocsp_response(r.content)
    except ValueError:
        raise rejected("jpki.revocation_unavailable", "broken OCSP response") from None
    if parsed.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise rejected("jpki.revocation_unavailable", f"OCSP {parsed.response_status.name}")
    return r.content


async def verify(cms_der: bytes, content: bytes, trust: Trust, *, at: datetime | None = None) -> Verification:
    """Verify a detached CMS signature over ``content``; raises :class:`SignatureRejected`."""
    moment = at or datetime.now(UTC)
    parsed = _parse(cms_der, content)
    checks = ["cms", "signed_attributes", "signature"]
    # Path, validity and key usage first, without revocation: that gives the issuer for OCSP.
    path = await _validate(
        parsed.signer,
        _context(trust, parsed.others, moment, crls=[], ocsps=[], rule=RevocationCheckingRule.NO_CHECK),
    )
    checks += ["chain", "validity", "key_usage"]
    if trust.revocation != "none":
        signer = x509.load_der_x509_certificate(parsed.signer.dump())
        issuer = x509.load_der_x509_certificate(_issuer_from_path(path, parsed.signer))
        # The revocation information must exist before the control time (pyhanko records its
        # "proof of existence" when the context is built): take the time after that, plus slack.
        when = at or datetime.now(UTC) + timedelta(seconds=5)
        if trust.revocation == "ocsp":
            # pyhanko only asks OCSP for certificates that name a responder in their AIA; the
            # configured responder may serve certificates that do not, so check the response
            # with its RFC 6960 routine directly on the validated path.
            response = await fetch_ocsp(trust, signer, issuer)
            context = _context(
                trust, parsed.others, when, crls=[], ocsps=[response], rule=RevocationCheckingRule.NO_CHECK
            )
            ocsp_path = await _validate(parsed.signer, context)
            try:
                await verify_ocsp_response(parsed.signer, ocsp_path, context)
            except cv_errors.RevokedError:
                raise rejected("jpki.revoked") from None
            except cv_errors.OCSPValidationError as exc:
                raise rejected("jpki.revocation_unknown", str(exc)) from None
        else:
            context = _context(
                trust,
                parsed.others,
                when,
                crls=trust.crls,
                ocsps=[],
                rule=RevocationCheckingRule.CRL_REQUIRED,
            )
            await _validate(parsed.signer, context)
        checks.append(f"revocation:{trust.revocation}")
    cert = x509.load_der_x509_certificate(parsed.signer.dump())
    info = four_info_of(cert)
    if info is None:
        raise rejected("jpki.no_four_info")
    checks.append("four_info")
    return Verification(
        four_info=info,
        signer_subject=cert.subject.rfc4514_string(),
        signer_serial=format(cert.serial_number, "X"),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        digest_algorithm=parsed.digest_algorithm,
        content_sha256=hashlib.sha256(content).hexdigest(),
        revocation=trust.revocation,
        checked_at=moment,
        certificate_der=parsed.signer.dump(),
        checks=checks,
    )


def _issuer_from_path(path: Any, signer: asn1_x509.Certificate) -> bytes:
    certs = list(path.iter_certs(include_root=True))
    for i, c in enumerate(certs):
        if c.dump() == signer.dump() and i > 0:
            return bytes(certs[i - 1].dump())
    raise rejected("jpki.untrusted", "issuer not in path")
