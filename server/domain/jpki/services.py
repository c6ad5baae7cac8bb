"""Signing an application: start at the signing app, verify what comes back, keep the result.

Only a ``valid`` signature whose ``content_sha256`` equals the current canonical bytes of the
application lets a procedure with ``jpki_required`` be submitted (``require_signature``). Every
attempt writes an audit event (``application_sign_success`` / ``application_sign_failure``).
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.db.models import Application, ApplicationFile, ApplicationSignature, Procedure
from server.domain import audit
from server.domain.eforms import fields as F
from server.domain.jpki import verify as V
from server.domain.jpki.canonical import canonical_bytes
from server.plugins.blobstore import BlobStore, open_store
from server.plugins.jpki import SigningApp, SigningAppFailed, SigningUnavailable, app_failed, registry
from shared.errors import Conflict, MadoguchiError, NotFound
from shared.schemas.eform import EformProcedure

UPLOAD = "upload"


def signing_app(settings: Settings) -> SigningApp:
    return registry.create(settings.jpki_signing_app, settings)


def trust_for(settings: Settings, app: SigningApp | None = None) -> V.Trust:
    """Trust anchors and revocation source from the settings (plus the sandbox's own test CA)."""
    app = app or signing_app(settings)
    anchors = V.load_files(settings.jpki_trust_anchors, V.read_certificates) + app.extra_trust_anchors()
    crls = V.load_files(settings.jpki_crl_files, V.read_crls) + app.extra_crls()
    revocation = app.revocation_override or settings.jpki_revocation
    return V.Trust(
        anchors=anchors,
        revocation=revocation,  # type: ignore[arg-type]
        crls=crls,
        ocsp_url=settings.jpki_ocsp_url or None,
        ocsp_timeout=settings.jpki_ocsp_timeout_seconds,
    )


async def canonical_of(
    session: AsyncSession, app: Application, row: Procedure, store: BlobStore | None = None
) -> bytes:
    """The canonical bytes of the application as it is now (see ``canonical.py``).

    With ``store``, every attached file is first read back and its SHA-256 checked, so that a
    signature is never asked for or accepted over a file whose stored bytes changed or vanished.
    """
    definition = EformProcedure.model_validate(row.definition)
    raw, sealed, _since = await signed_version(session, app)
    checked = F.validate(definition, raw, sealed)
    # The files the version refers to (a 差戻し keeps the replaced ones for the returned version).
    referenced = {str(v) for v in raw.values() if isinstance(v, str)}
    files = [
        f
        for f in (
            await session.execute(
                sa.select(ApplicationFile).where(
                    ApplicationFile.application_id == app.id, ApplicationFile.lg_code == app.lg_code
                )
            )
        )
        .scalars()
        .all()
        if str(f.id) in referenced
    ]
    if store is not None:
        from server.domain.eforms.files import verify_all

        await verify_all(store, files)
    return canonical_bytes(
        lg_code=app.lg_code,
        application=str(app.id),
        procedure=row.slug,
        title=row.title,
        values=checked.values,
        files=files,
        sealed=sealed,
    )


async def signed_version(
    session: AsyncSession, app: Application
) -> tuple[dict[str, Any], dict[str, Any], datetime | None]:
    """The raw values and sealed 個人番号 a signature must cover now, and since when it must exist.

    A draft: the application itself. 差戻し中 (``returned``): the resident's corrected working
    copy, and only a signature made after the return counts — the old one covered the version
    staff returned, and resubmitting needs the resident's signature over the corrected one.
    """
    if app.status == "returned":
        from server.domain.eforms import returns

        ret = next(
            (r for r in reversed(await returns.returns_of(session, app)) if r.resubmitted_at is None), None
        )
        if ret is not None:
            raw, sealed = returns.working(ret)
            since = ret.returned_at if ret.returned_at.tzinfo else ret.returned_at.replace(tzinfo=UTC)
            return raw, sealed, since
    return dict(app.values or {}), dict(app.sealed or {}), None


async def needed(session: AsyncSession, app: Application, definition: EformProcedure) -> bool:
    """Whether the version to sign now must be signed at all: ``jpki_required``, and the applicant
    is one the procedure asks (``jpki_signers``: 個人 only, or every applicant)."""
    if not definition.jpki_required:
        return False
    raw, _sealed, _since = await signed_version(session, app)
    return definition.jpki_needed(raw)


def _actor(app: Application) -> audit.Actor:
    return audit.Actor(username=f"resident:{str(app.id)[:8]}")


async def begin(
    session: AsyncSession, settings: Settings, app: Application, row: Procedure, return_url: str
) -> str:
    """Open a transaction at the signing app; returns where the resident goes."""
    plugin = signing_app(settings)
    content = await canonical_of(session, app, row, open_store(settings))
    start = await plugin.start(
        content=content, return_url=return_url, lg_code=app.lg_code, application=str(app.id)
    )
    session.add(
        ApplicationSignature(
            id=uuid.uuid4(),
            lg_code=app.lg_code,
            application_id=app.id,
            signing_app=plugin.plugin_id,
            transaction=start.transaction,
            state="pending",
            content_sha256=hashlib.sha256(content).hexdigest(),
            # What the adapter needs on the way back (PKCE verifier, nonce): replaced by the
            # outcome once the attempt ends, so it never outlives the transaction.
            result={"pending": dict(start.kept)} if start.kept else {},
            created_at=datetime.now(UTC),
        )
    )
    await session.flush()
    return start.redirect_url


UNKNOWN_TRANSACTION = (
    "署名の手続きが見つかりません。受付時間が過ぎたか、すでに終わった署名です。"
    "申請の署名の画面から、もう一度「署名する」を押してください。"
)


def _unknown() -> NotFound:
    return NotFound(UNKNOWN_TRANSACTION, code="jpki.transaction_unknown")


async def sweep_pending(session: AsyncSession, settings: Settings, lg_code: str, now: datetime) -> int:
    """Delete the municipality's signing attempts still ``pending`` after
    ``jpki_app_transaction_minutes`` (the resident never came back): with them go the nonce, the
    PKCE verifier and the transaction id the adapter kept. One audit event per attempt
    (``application_sign_expire_success``, by the system). A resident coming back later finds no
    attempt (``jpki.transaction_unknown``) and signs again. Returns how many were deleted."""
    cutoff = now - timedelta(minutes=settings.jpki_app_transaction_minutes)
    # DELETE … RETURNING: exactly the rows removed (an attempt that ends meanwhile stays, unaudited).
    stale = (
        await session.execute(
            sa.delete(ApplicationSignature)
            .where(
                ApplicationSignature.lg_code == lg_code,
                ApplicationSignature.state == "pending",
                ApplicationSignature.created_at < cutoff,
            )
            .returning(
                ApplicationSignature.id, ApplicationSignature.application_id, ApplicationSignature.signing_app
            )
            .execution_options(synchronize_session=False)
        )
    ).all()
    for sig_id, app_id, plugin_id in stale:
        await audit.record(
            session,
            lg_code=lg_code,
            actor=audit.SYSTEM,
            action="application_sign_expire_success",
            object_type="application",
            object_id=app_id,
            details={
                "attempt": str(sig_id),
                "signing_app": plugin_id,
                "minutes": settings.jpki_app_transaction_minutes,
            },
        )
    return len(stale)


async def _open_attempt(session: AsyncSession, lg_code: str, transaction: str) -> ApplicationSignature:
    """The open (``pending``) attempt with this transaction; unknown → ``jpki.transaction_unknown``."""
    sig = (
        await session.execute(
            sa.select(ApplicationSignature).where(
                ApplicationSignature.lg_code == lg_code,
                ApplicationSignature.transaction == transaction,
                ApplicationSignature.state == "pending",
            )
        )
    ).scalar_one_or_none()
    if sig is None:
        raise _unknown()
    return sig


async def _pending(session: AsyncSession, app: Application, transaction: str) -> ApplicationSignature:
    sig = await _open_attempt(session, app.lg_code, transaction)
    if sig.application_id != app.id:  # another application's transaction: unknown here
        raise _unknown()
    return sig


async def _finish(
    session: AsyncSession, app: Application, sig: ApplicationSignature, error: MadoguchiError | None
) -> MadoguchiError | None:
    """End an attempt (the transaction and what was kept for it are dropped) and audit it."""
    sig.verified_at = datetime.now(UTC)
    sig.transaction = None
    if error is not None:
        sig.state = "rejected"
        sig.result = {
            "code": error.error_code,
            "message": error.message,
            "detail": str(getattr(error, "detail", "") or "")[:500],
        }
    await session.flush()
    await audit.record(
        session,
        lg_code=app.lg_code,
        actor=_actor(app),
        action="application_sign_success" if error is None else "application_sign_failure",
        object_type="application",
        object_id=app.id,
        details={"signing_app": sig.signing_app, **({"code": error.error_code} if error else {})},
    )
    return error


async def _verify_into(
    session: AsyncSession,
    settings: Settings,
    app: Application,
    row: Procedure,
    sig: ApplicationSignature,
    cms: bytes,
    plugin: SigningApp | None,
) -> MadoguchiError | None:
    content = await canonical_of(session, app, row, open_store(settings))
    sig.signature = cms[: V.MAX_SIGNATURE_BYTES]
    try:
        if hashlib.sha256(content).hexdigest() != sig.content_sha256:
            raise V.rejected("jpki.mismatch", "application changed while signing")
        result = await V.verify(cms, content, trust_for(settings, plugin))
    except V.SignatureRejected as exc:
        return await _finish(session, app, sig, exc)
    sig.state = "valid"
    sig.four_info = result.four_info.as_dict()
    sig.result = result.as_dict()
    return await _finish(session, app, sig, None)


def _expired(settings: Settings, sig: ApplicationSignature) -> bool:
    started = sig.created_at if sig.created_at.tzinfo else sig.created_at.replace(tzinfo=UTC)
    return datetime.now(UTC) - started > timedelta(minutes=settings.jpki_app_transaction_minutes)


async def complete(
    session: AsyncSession,
    settings: Settings,
    app: Application,
    row: Procedure,
    transaction: str,
    params: dict[str, str],
) -> tuple[ApplicationSignature, MadoguchiError | None]:
    """The resident is back from the signing app: fetch, verify and keep the signature.

    Every way this can fail (the resident declined, the attempt is too old, the state or the
    result does not check, the app's API is down) ends the attempt as ``rejected`` with the
    error's code and Japanese message, shown on the 署名 page; the application is not touched.
    """
    sig = await _pending(session, app, transaction)
    plugin = signing_app(settings)
    kept = (sig.result or {}).get("pending") or {}
    try:
        if _expired(settings, sig):
            raise app_failed("jpki.app_expired", "attempt older than jpki_app_transaction_minutes")
        cms = await plugin.result(transaction, params, kept)
    except (SigningAppFailed, SigningUnavailable) as exc:
        return sig, await _finish(session, app, sig, exc)
    return sig, await _verify_into(session, settings, app, row, sig, cms, plugin)


async def pending_by_transaction(session: AsyncSession, lg_code: str, transaction: str) -> uuid.UUID:
    """The application of an open attempt, found by its transaction (an OAuth ``state``): for the
    one return address a signing app is registered with. Unknown → ``jpki.transaction_unknown``."""
    return (await _open_attempt(session, lg_code, transaction)).application_id


async def upload(
    session: AsyncSession, settings: Settings, app: Application, row: Procedure, cms: bytes
) -> tuple[ApplicationSignature, MadoguchiError | None]:
    """A signature file (.p7s, detached CMS over the downloaded canonical data) the resident uploaded."""
    content = await canonical_of(session, app, row)
    sig = ApplicationSignature(
        id=uuid.uuid4(),
        lg_code=app.lg_code,
        application_id=app.id,
        signing_app=UPLOAD,
        state="pending",
        content_sha256=hashlib.sha256(content).hexdigest(),
        result={},
        created_at=datetime.now(UTC),
    )
    session.add(sig)
    if len(cms) > V.MAX_SIGNATURE_BYTES:
        error = V.rejected("jpki.too_large")
        await _finish(session, app, sig, error)
        return sig, error
    # The sandbox CA is trusted only when the sandbox is the configured app.
    return sig, await _verify_into(session, settings, app, row, sig, cms, None)


async def signatures_of(session: AsyncSession, app: Application) -> list[ApplicationSignature]:
    return list(
        (
            await session.execute(
                sa.select(ApplicationSignature)
                .where(
                    ApplicationSignature.application_id == app.id, ApplicationSignature.lg_code == app.lg_code
                )
                .order_by(ApplicationSignature.created_at.desc())
            )
        )
        .scalars()
        .all()
    )


async def valid_signature(
    session: AsyncSession, app: Application, row: Procedure
) -> ApplicationSignature | None:
    """The valid signature over the application as it is now (see :func:`signed_version`), if any."""
    digest = hashlib.sha256(await canonical_of(session, app, row)).hexdigest()
    _raw, _sealed, since = await signed_version(session, app)
    for sig in await signatures_of(session, app):
        made = sig.created_at if sig.created_at.tzinfo else sig.created_at.replace(tzinfo=UTC)
        if sig.state == "valid" and sig.content_sha256 == digest and (since is None or made > since):
            return sig
    return None


async def supersede(session: AsyncSession, app: Application, current: ApplicationSignature) -> list[str]:
    """At resubmission after a 差戻し: every other valid signature (over the returned version) is
    kept for the record as ``superseded``, pointing at the one that covers the new version."""
    now = datetime.now(UTC)
    replaced = []
    for sig in await signatures_of(session, app):
        if sig.state == "valid" and sig.id != current.id:
            sig.state = "superseded"
            sig.result = {
                **(sig.result or {}),
                "superseded_by": str(current.id),
                "superseded_at": now.isoformat(),
            }
            replaced.append(str(sig.id))
    await session.flush()
    return replaced


async def require_signature(session: AsyncSession, app: Application, row: Procedure) -> ApplicationSignature:
    sig = await valid_signature(session, app, row)
    if sig is None:
        raise Conflict(
            "この手続きはマイナンバーカードによる電子署名が必要です。署名してから申請してください。",
            code="jpki.signature_required",
        )
    return sig


#: Form fields compared with the certificate's 4情報: 4情報 key → candidate field names.
COMPARED = {
    "name": ("name", "applicant_name"),
    "birth_date": ("birth_date", "applicant_birth_date"),
    "address": ("address", "applicant_address"),
}
COMPARED_LABELS = {"name": "氏名", "birth_date": "生年月日", "address": "住所"}


def _plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def compare(four_info: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """What the resident typed against the signer certificate's 4情報, for staff to see.

    Only top-level fields named like the 4情報 are compared; full-width / half-width forms and
    spaces are ignored (NFKC). A difference is shown, not refused: the 住所 on the card may lag a
    move, and a name may use characters the certificate writes differently (代替文字).
    """
    rows = []
    for key, names in COMPARED.items():
        typed = next((str(values[n]) for n in names if values.get(n)), None)
        if typed is None or key not in four_info:
            continue
        cert = str(four_info[key])
        rows.append(
            {
                "label": COMPARED_LABELS[key],
                "typed": typed,
                "cert": cert,
                "match": _plain(typed) == _plain(cert),
            }
        )
    return rows


def summary(sig: ApplicationSignature) -> dict[str, Any]:
    """What the staff console shows of a signature."""
    return {
        "state": sig.state,
        "four_info": sig.four_info or {},
        "result": sig.result or {},
        "at": sig.verified_at,
    }
