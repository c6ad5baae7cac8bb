"""A small test PKI built with ``cryptography``: CA, intermediate, JPKI-like signer certificates
(基本4情報 in subjectAltName otherName), CRLs, OCSP responses and detached CMS signatures.

Used by the ``sandbox`` signing app (demo) and by the tests. Nothing here is a real JPKI
certificate: names say テスト and the CA is generated in the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from server.domain.jpki.certinfo import FourInfo, four_info_names


@dataclass
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Madoguchi Test JPKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_ca(
    cn: str,
    parent: Issued | None = None,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Issued:
    """A CA certificate: self-signed root when ``parent`` is None, else an intermediate."""
    now = datetime.now(UTC)
    key = _key()
    issuer_key = parent.key if parent else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(parent.cert.subject if parent else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if parent is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()), critical=False
        )
    return Issued(builder.sign(issuer_key, hashes.SHA256()), key)


def make_signer(
    ca: Issued,
    info: FourInfo,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    non_repudiation: bool = True,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
) -> Issued:
    """A JPKI-like 署名用電子証明書: key usage digitalSignature + nonRepudiation, 4情報 in the SAN."""
    now = datetime.now(UTC)
    key = _key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(f"TEST{x509.random_serial_number() % 10**12:012d}"))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(hours=1))
        .not_valid_after(not_after or now + timedelta(days=365 * 5))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, non_repudiation, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectAlternativeName(four_info_names(info)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if ocsp_url:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
                    )
                ]
            ),
            critical=False,
        )
    if crl_url:
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
            ),
            critical=False,
        )
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def make_crl(ca: Issued, revoked: list[x509.Certificate] = (), *, next_update_days: int = 7) -> bytes:  # type: ignore[assignment]
    """A DER CRL of ``ca`` listing ``revoked``."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(min(now - timedelta(minutes=5), now + timedelta(days=next_update_days - 1)))
        .next_update(now + timedelta(days=next_update_days))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - timedelta(minutes=1))
            .build()
        )
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ocsp_response(request_der: bytes, ca: Issued, revoked: set[int], known: set[int] | None = None) -> bytes:
    """What an OCSP responder of ``ca`` (signing with the CA key itself) answers to a request."""
    req = ocsp.load_der_ocsp_request(request_der)
    now = datetime.now(UTC)
    serial = req.serial_number
    if known is not None and serial not in known:
        status, rev_time = ocsp.OCSPCertStatus.UNKNOWN, None
    elif serial in revoked:
        status, rev_time = ocsp.OCSPCertStatus.REVOKED, now - timedelta(minutes=1)
    else:
        status, rev_time = ocsp.OCSPCertStatus.GOOD, None
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=req.issuer_name_hash,
            issuer_key_hash=req.issuer_key_hash,
            serial_number=serial,
            algorithm=req.hash_algorithm,
            cert_status=status,
            this_update=now - timedelta(minutes=1),
            next_update=now + timedelta(hours=1),
            revocation_time=rev_time,
            revocation_reason=x509.ReasonFlags.key_compromise if rev_time else None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, ca.cert)
    )
    nonce = next((e for e in req.extensions if isinstance(e.value, x509.OCSPNonce)), None)
    if nonce is not None:
        builder = builder.add_extension(nonce.value, critical=False)
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def sign_detached(content: bytes, signer: Issued, chain: list[x509.Certificate] = ()) -> bytes:  # type: ignore[assignment]
    """A detached CMS SignedData (DER) over ``content``, with the signer's certificate (and chain)."""
    builder = (
        pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(signer.cert, signer.key, hashes.SHA256())
    )
    for cert in chain:
        builder = builder.add_certificate(cert)
    return builder.sign(
        serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    )
