"""Verification of detached CMS signatures against a generated PKI: every way it must fail."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from server.domain.jpki import verify as V
from server.domain.jpki.certinfo import four_info_of
from server.plugins.jpki import testpki as T
from server.plugins.jpki import wrap_raw_signature
from tests.server.jpki.conftest import TARO

CONTENT = '{"format":"madoguchi-eform-sign/1","values":{"name":"下妻 太郎"}}'.encode()


def trust(pki, revocation="crl", **kw):
    if revocation == "crl" and "crls" not in kw:
        kw["crls"] = pki.crls()
    return V.Trust(anchors=[pki.root.der], revocation=revocation, **kw)


def sig(signer, pki, content=CONTENT):
    return T.sign_detached(content, signer, [pki.intermediate.cert])


async def rejected_code(cms, content, t):
    with pytest.raises(V.SignatureRejected) as info:
        await V.verify(cms, content, t)
    assert info.value.message == V.MESSAGES[info.value.error_code]
    return info.value.error_code


async def test_valid_signature_with_crl_gives_the_four_info(pki):
    result = await V.verify(sig(pki.signer, pki), CONTENT, trust(pki))
    assert result.four_info == TARO
    assert result.four_info.gender_label == "男"
    assert result.checks == [
        "cms",
        "signed_attributes",
        "signature",
        "chain",
        "validity",
        "key_usage",
        "revocation:crl",
        "four_info",
    ]
    assert result.digest_algorithm == "sha256" and result.revocation == "crl"


async def test_pem_armoured_signature_is_accepted(pki):
    der = sig(pki.signer, pki)
    pem = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(der) + b"-----END PKCS7-----\n"
    assert (await V.verify(pem, CONTENT, trust(pki))).four_info.name == "下妻 太郎"


async def test_tampered_data_is_refused(pki):
    assert await rejected_code(sig(pki.signer, pki), CONTENT + b" ", trust(pki)) == "jpki.mismatch"


async def test_tampered_signature_value_is_refused(pki):
    der = bytearray(sig(pki.signer, pki))
    der[-10] ^= 0xFF  # inside the signature value at the end of the SignerInfo
    assert await rejected_code(bytes(der), CONTENT, trust(pki)) in ("jpki.mismatch", "jpki.malformed")


async def test_wrong_ca_is_refused(pki):
    cms = T.sign_detached(CONTENT, pki.other_signer)
    assert await rejected_code(cms, CONTENT, trust(pki)) == "jpki.untrusted"


async def test_expired_certificate_is_refused(pki):
    assert await rejected_code(sig(pki.expired, pki), CONTENT, trust(pki)) == "jpki.expired"


async def test_certificate_without_non_repudiation_is_refused(pki):
    assert await rejected_code(sig(pki.no_nonrepudiation, pki), CONTENT, trust(pki)) == "jpki.key_usage"


async def test_revoked_by_crl_is_refused(pki):
    assert await rejected_code(sig(pki.revoked, pki), CONTENT, trust(pki)) == "jpki.revoked"


async def test_missing_crl_is_refused_not_passed(pki):
    t = trust(pki, crls=[T.make_crl(pki.root, [])])  # the intermediate's CRL is missing
    assert await rejected_code(sig(pki.signer, pki), CONTENT, t) == "jpki.revocation_unknown"


async def test_stale_crl_is_refused(pki):
    stale = [T.make_crl(pki.intermediate, [], next_update_days=-1), T.make_crl(pki.root, [])]
    assert (
        await rejected_code(sig(pki.signer, pki), CONTENT, trust(pki, crls=stale))
        == "jpki.revocation_unknown"
    )


async def test_revocation_none_passes_a_revoked_certificate(pki):
    """``none`` is for trials only: documented as such, and this shows why."""
    result = await V.verify(sig(pki.revoked, pki), CONTENT, trust(pki, "none"))
    assert "revocation:crl" not in result.checks


async def test_ocsp_good_and_revoked(pki, ocsp_responder):
    ocsp_responder.revoked.add(pki.revoked.cert.serial_number)
    t = trust(pki, "ocsp", ocsp_url=ocsp_responder.url)
    result = await V.verify(sig(pki.signer, pki), CONTENT, t)
    assert "revocation:ocsp" in result.checks
    assert await rejected_code(sig(pki.revoked, pki), CONTENT, t) == "jpki.revoked"
    assert ocsp_responder.requests == 2


async def test_ocsp_url_from_the_certificate(pki, ocsp_responder):
    signer = T.make_signer(pki.intermediate, TARO, ocsp_url=ocsp_responder.url)
    result = await V.verify(sig(signer, pki), CONTENT, trust(pki, "ocsp"))
    assert "revocation:ocsp" in result.checks and ocsp_responder.requests == 1


async def test_unreachable_ocsp_has_a_clear_japanese_message(pki, closed_port_url):
    t = trust(pki, "ocsp", ocsp_url=closed_port_url, ocsp_timeout=2)
    with pytest.raises(V.SignatureRejected) as info:
        await V.verify(sig(pki.signer, pki), CONTENT, t)
    assert info.value.error_code == "jpki.revocation_unavailable"
    assert "失効確認ができませんでした" in info.value.message and "時間をおいて" in info.value.message


async def test_ocsp_from_a_foreign_responder_is_refused(pki, ocsp_responder):
    """A response signed by a key that is not the CA's does not count as revocation info."""
    ocsp_responder.ca = T.make_ca("Rogue", None)
    t = trust(pki, "ocsp", ocsp_url=ocsp_responder.url)
    code = await rejected_code(sig(pki.signer, pki), CONTENT, t)
    assert code in ("jpki.revocation_unknown", "jpki.untrusted")


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"garbage",
        b"\x30\x03\x02\x01\x01",
        b"-----BEGIN PKCS7-----\n!!!\n-----END PKCS7-----\n",
        bytes(range(256)) * 4,
    ],
)
async def test_garbage_is_malformed(pki, blob):
    assert await rejected_code(blob, CONTENT, trust(pki)) == "jpki.malformed"


async def test_oversized_signature_is_refused_before_parsing(pki):
    assert await rejected_code(b"\x30" * (V.MAX_SIGNATURE_BYTES + 1), CONTENT, trust(pki)) == "jpki.too_large"


async def test_raw_signature_wrapped_for_the_digital_auth_app_verifies(pki):
    """The app returns PKCS#1 v1.5 over the SHA-256 digest and the certificate: wrapped, it verifies."""
    raw = pki.signer.key.sign(CONTENT, padding.PKCS1v15(), hashes.SHA256())
    cms = wrap_raw_signature(pki.signer.der, raw, chain=(pki.intermediate.der,))
    t = trust(pki)
    result = await V.verify(cms, CONTENT, t)
    assert result.four_info == TARO and "signed_attributes" in result.checks
    assert await rejected_code(cms, CONTENT + b"x", t) == "jpki.mismatch"


async def test_signer_issued_by_the_root_itself(pki):
    """The JPKI shape: the 署名用認証局 is a self-signed root issuing signers and its own CRL."""
    signer = T.make_signer(pki.root, TARO)
    cms = T.sign_detached(CONTENT, signer)
    ok = V.Trust([pki.root.der], "crl", [T.make_crl(pki.root, [])])
    assert (await V.verify(cms, CONTENT, ok)).four_info == TARO
    revoked = V.Trust([pki.root.der], "crl", [T.make_crl(pki.root, [signer.cert])])
    assert await rejected_code(cms, CONTENT, revoked) == "jpki.revoked"


def test_four_info_needs_all_four(pki):
    assert four_info_of(pki.signer.cert) == TARO
    assert four_info_of(pki.root.cert) is None


def test_trust_files_are_read_from_pem_and_der(pki, tmp_path):
    (tmp_path / "ca").mkdir()
    (tmp_path / "ca" / "root.pem").write_bytes(pki.root.pem + pki.intermediate.pem)
    (tmp_path / "ca" / "other.cer").write_bytes(pki.other_root.der)
    anchors = V.load_files([tmp_path / "ca"], V.read_certificates)
    assert len(anchors) == 3 and pki.root.der in anchors
    crl = pki.crls()[0]
    (tmp_path / "a.crl").write_bytes(crl)
    assert V.load_files([tmp_path / "a.crl"], V.read_crls) == [crl]
